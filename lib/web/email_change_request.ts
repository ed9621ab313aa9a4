// Asking to move the signed-in account to a new address, the same for the
// page and the JSON API: the current password (rate-limited like a
// sign-in, one check at a time per account), the new mailbox's limits, and
// the request itself after the answer, so a taken address and a free one
// answer alike, in the same time.
import { deliverSoon } from "../accounts/accounts.ts";
import type { AppDeps } from "../app/deps.ts";
import { requestEmailChange } from "../accounts/email_change.ts";
import { withHashTurn } from "./hash_turns.ts";
import type { AppContext } from "./http.ts";
import { countLoginFailure, limitRequest } from "./request_limits.tsx";
import * as z from "zod/mini";
import {
  ChangePasswordSchema,
  emailField,
  type FieldErrors,
} from "../accounts/schemas.ts";
import { getUser, type User } from "../accounts/users.ts";

/**
 * /account/email and POST /api/email/change: the new address and the current
 * password (the account page's field). Kept out of lib/accounts/schemas.ts,
 * which the browser bundle carries.
 */
export const ChangeEmailSchema = z.object({
  email: emailField,
  current_password: ChangePasswordSchema.shape.current_password,
});
export type ChangeEmailInput = z.infer<typeof ChangeEmailSchema>;

export type AskEmailChangeResult =
  | { ok: true }
  | { ok: false; reason: "fields"; errors: FieldErrors }
  /** limited: a budget is spent; busy: another check for the account runs. */
  | { ok: false; reason: "limited" | "busy"; retryAfterMs: number }
  | { ok: false; reason: "retry" };

export async function askEmailChange(
  deps: AppDeps,
  c: AppContext,
  user: User,
  input: ChangeEmailInput,
): Promise<AskEmailChangeResult> {
  if (input.email === user.email) {
    return {
      ok: false,
      reason: "fields",
      errors: { email: "email_change.same" },
    };
  }
  // Checking the current password is a sign-in attempt: a borrowed session
  // must not get unlimited guesses at it.
  const signIn = await limitRequest(deps, c, "login", user.email);
  if (!signIn.ok) {
    return { ok: false, reason: "limited", retryAfterMs: signIn.retryAfterMs };
  }
  const checked = await withHashTurn(
    deps,
    c,
    { account: user.id },
    async () => {
      // Read again inside the turn: a password change a moment ago counts.
      const current = await getUser(deps.kv, user.id, deps.clock.now());
      if (!current?.isActive) return "retry" as const;
      return await deps.passwords.verify(
          input.current_password,
          current.passwordHash,
        )
        ? "ok" as const
        : "wrong" as const;
    },
  );
  if (typeof checked !== "string") return checked;
  if (checked === "retry") return { ok: false, reason: "retry" };
  if (checked === "wrong") {
    await countLoginFailure(deps, c, user.email);
    return {
      ok: false,
      reason: "fields",
      errors: { current_password: "current_password.wrong" },
    };
  }
  // The new mailbox's budget and interval, as for every mailed link.
  const mail = await limitRequest(deps, c, "email_change", input.email);
  if (!mail.ok) {
    return { ok: false, reason: "limited", retryAfterMs: mail.retryAfterMs };
  }
  deps.background("email change request", async () => {
    const res = await requestEmailChange(deps, user.id, input.email);
    if (!res.ok) {
      deps.log.warn("email change lost every write race; nothing queued");
      return;
    }
    deliverSoon(deps, res.outboxId);
  });
  return { ok: true };
}
