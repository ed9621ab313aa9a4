// When a failed mail is tried again, and when it stops being tried: the
// backoff (with a provider's Retry-After) and the dead-letter limits,
// MAIL_MAX_ATTEMPTS and MAIL_MAX_AGE. Pure functions; lib/outbox/deliver.ts applies
// them.
import type { Config } from "../app/config.ts";
import { MailSendError } from "../mail/types.ts";
import type { OutboxEntry } from "./signals.ts";

/** The first retry waits this long; each next one twice as long. */
const FIRST_RETRY_MS = 60_000;
const MAX_BACKOFF_MS = 3_600_000;

/** How long to leave a failed entry before the sweep retries it. */
export function retryDelayMs(attempts: number, err: unknown): number {
  const backoff = Math.min(
    MAX_BACKOFF_MS,
    FIRST_RETRY_MS * 2 ** (attempts - 1),
  );
  if (!(err instanceof MailSendError)) return backoff;
  // Retrying soon will not fix a wrong API key or an unverified sender.
  if (!err.temporary) return MAX_BACKOFF_MS;
  return Math.min(
    MAX_BACKOFF_MS,
    Math.max(backoff, err.opts.retryAfterMs ?? 0),
  );
}

export type GiveUpReason = "permanent" | "max_attempts" | "max_age";

/**
 * Why a failed entry (its `attempts` counting the one that just failed)
 * stops retrying now, or null when it is retried at `retryAt`.
 */
export function whyGiveUp(
  entry: OutboxEntry,
  err: unknown,
  retryAt: number,
  limits: Pick<Config["mail"], "maxAttempts" | "maxAgeMs">,
): GiveUpReason | null {
  if (err instanceof MailSendError && err.opts.permanent) return "permanent";
  if (entry.attempts >= limits.maxAttempts) return "max_attempts";
  // No attempt starts later than MAIL_MAX_AGE after the mail was queued (or
  // revived by an operator).
  const since = entry.revivedAt ?? entry.createdAt;
  if (retryAt > since + limits.maxAgeMs) return "max_age";
  return null;
}
