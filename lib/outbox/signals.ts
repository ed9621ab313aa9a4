// lib/outbox/ — what happens after a commit: signals and their outbox
// entries (this file), the deliverer that claims and sends them
// (deliver.ts), one handler per signal (handlers.ts), retries and dead
// letters, the mail budgets. It may import accounts/ (a handler reads the
// user it mails), mail/, security/, kv/, i18n/ and app/'s foundation.
//
// Signals announce a state change. Each is committed in the same atomic
// operation as the change itself: an outbox entry (durable, swept by cron)
// plus, where KV queues exist, a queue message pointing at it. Messages carry
// ids only, never secrets. Adding a signal is one line in the union below and
// one handler in lib/outbox/handlers.ts (lib/outbox/deliver.ts claims and
// dispatches).
import { z } from "zod";
import type { Clock } from "../app/clock.ts";
import type { Config } from "../app/config.ts";
import { keys } from "../kv/keys.ts";

export const SignalSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("user_registered"), userId: z.string() }),
  /** A pending user asked again (resend, or registered once more). */
  z.object({ type: z.literal("activation_requested"), userId: z.string() }),
  /** Someone registered with the address of an active account. */
  z.object({
    type: z.literal("registration_attempted_on_active"),
    userId: z.string(),
  }),
  z.object({
    type: z.literal("password_reset_requested"),
    userId: z.string(),
  }),
  /** The owner proved the password: mail the link that confirms deletion. */
  z.object({
    type: z.literal("account_deletion_requested"),
    userId: z.string(),
  }),
  /**
   * The goodbye mail. The account is gone when it is sent, so the message
   * carries what the mail needs (the only signal naming an address); its
   * entry leaves the outbox once sent, and a dead letter of it expires
   * (GOODBYE_DEAD_LETTER_TTL_MS).
   */
  z.object({
    type: z.literal("account_deleted"),
    email: z.string().max(254),
    firstName: z.string().max(150),
    lang: z.string().max(12),
  }),
  /** A signed-in person asked to move the account to a new address. */
  z.object({
    type: z.literal("email_change_requested"),
    userId: z.string(),
    changeId: z.string(),
  }),
  /** Someone asked to move another account to this user's address. */
  z.object({ type: z.literal("email_change_attempted"), userId: z.string() }),
  /** The address changed; the old one is told, with a way back. */
  z.object({
    type: z.literal("email_changed"),
    userId: z.string(),
    undoId: z.string(),
  }),
]);
export type Signal = z.infer<typeof SignalSchema>;
export type SignalType = Signal["type"];
/** Signals about an account that exists, which they name by its id. */
export type UserSignalType = Extract<Signal, { userId: string }>["type"];

/** The id of the account a signal is about, or null (a goodbye). */
export function signalOwner(signal: Signal): string | null {
  return "userId" in signal ? signal.userId : null;
}
/** Signals that carry the user id and nothing else (see users.signalUser). */
export type UserOnlySignalType = {
  [S in Signal as S["type"]]: [Exclude<keyof S, "type" | "userId">] extends
    [never] ? S["type"]
    : never;
}[SignalType];

export const OutboxEntrySchema = z.object({
  id: z.string(),
  signal: SignalSchema,
  createdAt: z.number(),
  attempts: z.number().int().min(0),
  lastError: z.string().nullable(),
  lastAttemptAt: z.number().nullable(),
  /** A deliverer owns the entry until then; 0 when nobody does. */
  leaseUntil: z.number(),
  /** No deliverer (queue, sweep, batch) tries the entry before then. */
  nextAttemptAt: z.number(),
  /**
   * When an operator revived it from the dead letters; MAIL_MAX_AGE counts
   * from then. Absent on entries never revived (and on older records).
   */
  revivedAt: z.number().optional(),
});
export type OutboxEntry = z.infer<typeof OutboxEntrySchema>;

/**
 * An entry that stopped retrying (MAIL_MAX_ATTEMPTS or MAIL_MAX_AGE, or an
 * error no retry can fix), kept with its last error until an operator
 * revives it (`deno task users retry-outbox`) or deletes the user.
 */
export const DeadLetterSchema = OutboxEntrySchema.extend({
  deadAt: z.number(),
  /**
   * When KV drops it (written with expireIn; a restore reads it back): set
   * on a dead letter that must not stay (deadLetterTtlMs), absent otherwise.
   */
  expiresAt: z.number().optional(),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

/**
 * How long a goodbye mail that could not be sent stays a dead letter: long
 * enough for an operator to retry it, not forever (it names the address of
 * an account that no longer exists).
 */
export const GOODBYE_DEAD_LETTER_TTL_MS = 7 * 86_400_000;

/** A dead letter's lifetime: null keeps it until an operator acts. */
export function deadLetterTtlMs(signal: Signal): number | null {
  return signal.type === "account_deleted" ? GOODBYE_DEAD_LETTER_TTL_MS : null;
}

export const QueueMessageSchema = z.object({ outboxId: z.string() });
export type QueueMessage = z.infer<typeof QueueMessageSchema>;

/** Retries of the KV queue, after which it writes `keys.undelivered`. */
export const QUEUE_BACKOFF_MS = [1_000, 5_000, 30_000, 120_000, 600_000];

export interface AddSignalOptions {
  id: string;
  now: number;
  /** false where KV queues do not exist (Deno Deploy): the cron sweep delivers. */
  queue: boolean;
}

/**
 * When a signal written now is stamped, and whether a KV queue message goes
 * with it (SIGNAL_QUEUE=kv; elsewhere the cron sweep or an immediate
 * delivery sends it).
 */
export function signalTiming(
  deps: { clock: Clock; config: Pick<Config, "signalQueue"> },
): { now: number; queue: boolean } {
  return { now: deps.clock.now(), queue: deps.config.signalQueue === "kv" };
}

/** Adds the signal to an atomic operation the caller commits. */
export function addSignal(
  atomic: Deno.AtomicOperation,
  signal: Signal,
  { id, now, queue }: AddSignalOptions,
): Deno.AtomicOperation {
  const entry: OutboxEntry = {
    id,
    signal,
    createdAt: now,
    attempts: 0,
    lastError: null,
    lastAttemptAt: null,
    leaseUntil: 0,
    nextAttemptAt: now,
  };
  atomic.check({ key: keys.outboxEntry(id), versionstamp: null })
    .set(keys.outboxEntry(id), entry)
    // /healthz reads the backlog from counters instead of scanning.
    .sum(keys.outboxAdded(), 1n);
  if (queue) {
    const message: QueueMessage = { outboxId: id };
    atomic.enqueue(message, {
      keysIfUndelivered: [keys.undelivered(id)],
      backoffSchedule: QUEUE_BACKOFF_MS,
    });
  }
  return atomic;
}
