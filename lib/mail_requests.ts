// "Send me a mail" requests (a new activation link, a password-reset link),
// the same for the pages and the JSON API: the rate limits, the service, and
// an immediate delivery where there is no queue. Every address gets the same
// result, so the caller's answer cannot enumerate accounts.
import { deliverSoon, resendActivation } from "./accounts.ts";
import type { AppDeps } from "./deps.ts";
import type { AppContext } from "./http.ts";
import { requestPasswordReset } from "./password_reset.ts";
import { limitRequest } from "./request_limits.tsx";

export type MailRequest = "resend" | "forgot";

const SERVICES = {
  resend: resendActivation,
  forgot: requestPasswordReset,
} as const;

export type MailRequestResult =
  /** `waitMs`: how long until the same request would pass (from limits only). */
  | { ok: true; waitMs: number }
  | { ok: false; reason: "limited"; retryAfterMs: number }
  | { ok: false; reason: "retry" };

export async function requestMail(
  deps: AppDeps,
  c: AppContext,
  kind: MailRequest,
  email: string,
): Promise<MailRequestResult> {
  const limited = await limitRequest(deps, c, kind, email);
  if (!limited.ok) {
    return { ok: false, reason: "limited", retryAfterMs: limited.retryAfterMs };
  }
  const res = await SERVICES[kind](deps, email);
  if (!res.ok) return { ok: false, reason: "retry" };
  deliverSoon(deps, res.outboxId);
  return { ok: true, waitMs: limited.waitMs };
}
