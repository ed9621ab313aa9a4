// Taking an account back after an email change: the old address's undo link
// (valid 7 days, once) restores that address if it is still free, sets a new
// password, ends every other session and signs the person in. Changing the
// address is email_change.ts.
import type { Deps } from "../app/deps.ts";
import { retryGuarded } from "../kv/guarded.ts";
import { keys } from "../kv/keys.ts";
import { EMAIL_UNDO_PURPOSE } from "./token_purposes.ts";
import { weakPasswordReason } from "../security/password_rules.ts";
import { clearLoginAttempts } from "../security/rate_limit.ts";
import type { FieldErrors, ResetPasswordInput } from "./schemas.ts";
import { addSession, deleteUserSessions, newSession } from "./sessions.ts";
import type { NewSession } from "./sessions.ts";
import { addAuditEvent } from "./audit.ts";
import { type ClientInfo, UNKNOWN_CLIENT } from "./devices.ts";
import { epochOf, getUser, type User } from "./users.ts";
import {
  claimAddress,
  EMAIL_UNDO_MAX_AGE_MS,
  type EmailUndo,
  getEmailUndo,
  type LinkReason,
  MAX_TRIES,
} from "./email_change.ts";

export type EmailUndoLinkCheck =
  | { ok: true; user: User; undo: EmailUndo }
  | { ok: false; reason: LinkReason };

/** Whether an undo link still works (unused, within 7 days). */
export async function checkEmailUndoLink(
  deps: Deps,
  token: string,
): Promise<EmailUndoLinkCheck> {
  const now = deps.clock.now();
  const verified = await deps.signer.verify(EMAIL_UNDO_PURPOSE, token, {
    maxAgeMs: EMAIL_UNDO_MAX_AGE_MS,
    now,
  });
  if (!verified.ok) return verified;
  const { sub, h } = verified.payload;
  if (h === undefined) return { ok: false, reason: "invalid" };
  const user = await getUser(deps.kv, sub, now);
  const undo = await getEmailUndo(deps.kv, sub, h);
  if (!user?.isActive || !undo) return { ok: false, reason: "invalid" };
  return { ok: true, user, undo };
}

export type UndoEmailChangeOutcome =
  | { ok: true; user: User; session: NewSession }
  | { ok: false; reason: LinkReason | "taken" | "retry" }
  | { ok: false; reason: "fields"; errors: FieldErrors };

/**
 * The old address takes the account back: the address is restored (if no
 * other account took it meanwhile), the new password replaces the one
 * whoever changed the address knew, and the credential epoch rises, which
 * ends every session; the person is signed in with a new one. One commit,
 * guarded by the user and the undo record, which it deletes with every
 * other undo and any pending request: the link works once.
 */
export async function undoEmailChange(
  deps: Deps,
  token: string,
  input: ResetPasswordInput,
  /** Who undid it, for the account's security events. */
  client: ClientInfo = UNKNOWN_CLIENT,
): Promise<UndoEmailChangeOutcome> {
  const { kv } = deps;
  const link = await checkEmailUndoLink(deps, token);
  if (!link.ok) return link;
  const { undo } = link;
  const reason = weakPasswordReason(input.password, [
    undo.fromEmail,
    link.user.firstName,
  ]);
  if (reason === "personal") {
    return {
      ok: false,
      reason: "fields",
      errors: { password: "password.weak_personal" },
    };
  }
  const passwordHash = await deps.passwords.hash(input.password);
  return retryGuarded(async (): Promise<UndoEmailChangeOutcome | undefined> => {
    const now = deps.clock.now();
    const entry = await kv.get<User>(keys.user(link.user.id));
    const record = await kv.get<EmailUndo>(
      keys.emailUndo(link.user.id, undo.id),
    );
    const current = entry.value;
    if (!current?.isActive || !record.value) {
      return { ok: false, reason: "invalid" };
    }
    const atomic = kv.atomic().check(entry).check(record);
    if (current.email !== undo.fromEmail) {
      if (!await claimAddress(kv, atomic, undo.fromEmail, now)) {
        return { ok: false, reason: "taken" };
      }
      atomic
        .delete(keys.userByEmail(current.email))
        .set(keys.userByEmail(undo.fromEmail), current.id);
    }
    const user: User = {
      ...current,
      email: undo.fromEmail,
      passwordHash,
      credentialEpoch: epochOf(current) + 1,
    };
    atomic.set(keys.user(user.id), user).delete(keys.emailChange(user.id));
    // Every way back dies with this one; a new undo is only ever written
    // together with the user record, which this commit checks.
    for await (const other of kv.list({ prefix: keys.emailUndos(user.id) })) {
      atomic.delete(other.key);
    }
    const session = await newSession(
      user.id,
      now,
      deps.config.sessionTtlMs,
      epochOf(user),
    );
    addSession(atomic, session, deps.config.sessionTtlMs);
    // The address came back and the password was set anew: two events.
    addAuditEvent(atomic, user.id, { type: "email_changed", client }, now);
    addAuditEvent(atomic, user.id, { type: "password_reset", client }, now);
    if ((await atomic.commit()).ok) {
      await deleteUserSessions(kv, user.id, session.idHash);
      await clearLoginAttempts(kv, user.email);
      return { ok: true, user, session };
    }
  }, {
    tries: MAX_TRIES,
    exhausted: (): UndoEmailChangeOutcome => ({ ok: false, reason: "retry" }),
  });
}
