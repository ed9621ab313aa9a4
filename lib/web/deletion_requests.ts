// "Delete my account", the same for the page and the JSON API: the limits on
// checking a password and on mailing, one check at a time per account, the
// service, and an immediate delivery where there is no queue.
import { deliverSoon } from "../accounts/accounts.ts";
import {
  type DeletionRequestOutcome,
  requestAccountDeletion,
} from "../accounts/deletion.ts";
import type { AppDeps } from "../app/deps.ts";
import { type HashTurnRefused, withHashTurn } from "./hash_turns.ts";
import type { AppContext } from "./http.ts";
import { countLoginFailure, limitRequest } from "./request_limits.tsx";
import { ChangePasswordSchema, tokenField } from "../accounts/schemas.ts";
import { getUser, type User } from "../accounts/users.ts";
import * as z from "zod/mini";

export async function askAccountDeletion(
  deps: AppDeps,
  c: AppContext,
  user: User,
  password: string,
): Promise<DeletionRequestOutcome | HashTurnRefused> {
  // Checking the password is a sign-in attempt: a borrowed session must not
  // get unlimited guesses at it.
  const guess = await limitRequest(deps, c, "login", user.email);
  if (!guess.ok) {
    return { ok: false, reason: "limited", retryAfterMs: guess.retryAfterMs };
  }
  const res = await withHashTurn(deps, c, { account: user.id }, async () => {
    // Read again inside the turn: a password change a moment ago wins.
    const current = await getUser(deps.kv, user.id, deps.clock.now());
    if (!current) return { ok: false as const, reason: "retry" as const };
    return requestAccountDeletion(
      deps,
      current,
      password,
      // At most one mail per RESEND_INTERVAL and RATE_LIMIT_EMAIL per mailbox.
      () => limitRequest(deps, c, "delete", current.email),
    );
  });
  if (!res.ok && res.reason === "wrong_password") {
    await countLoginFailure(deps, c, user.email);
  }
  if (res.ok) deliverSoon(deps, res.outboxId);
  return res;
}

/** The form (and JSON body) that asks: the account's current password. */
export const DeleteAccountSchema = z.object({
  current_password: ChangePasswordSchema.shape.current_password,
});

/** The JSON body that confirms: the token from the mailed link. */
export const ConfirmDeletionApiSchema = z.object({ token: tokenField });
