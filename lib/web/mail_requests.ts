// "Send me a mail" requests (a new activation link, a password-reset link),
// the same for the pages and the JSON API: the rate limits, the service, and
// an immediate delivery where there is no queue. Every address gets the same
// result, so the caller's answer cannot enumerate accounts.
import { deliverSoon, resendActivation } from "../accounts/accounts.ts";
import type { AppDeps } from "../app/deps.ts";
import type { AppContext } from "./http.ts";
import { requestPasswordReset } from "../accounts/password_reset.ts";
import { limitRequest } from "./request_limits.tsx";

export type MailRequest = "resend" | "forgot";

const SERVICES = {
  resend: resendActivation,
  forgot: requestPasswordReset,
} as const;

export type MailRequestResult =
  /** `waitMs`: how long until the same request would pass (from limits only). */
  | { ok: true; waitMs: number }
  | { ok: false; reason: "limited"; retryAfterMs: number };

/**
 * Checks the limits and answers; the request itself runs after the answer.
 * A pending address costs a commit and an unknown one only a read, so doing
 * the work first would let response times tell which addresses have
 * accounts (on a remote KV, by milliseconds). A request that loses every
 * race with other writes is logged and sends nothing; asking again helps.
 */
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
  deps.background(`${kind} mail request`, async () => {
    const res = await SERVICES[kind](deps, email);
    if (!res.ok) {
      deps.log.warn("mail request lost every write race; nothing queued", {
        kind,
      });
      return;
    }
    deliverSoon(deps, res.outboxId);
  });
  return { ok: true, waitMs: limited.waitMs };
}
