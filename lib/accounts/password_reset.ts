// Password services shared by the pages and the JSON API: ask for a reset
// link, look at one, use it, and change the password while signed in.
import type { Deps } from "../app/deps.ts";
import { signalTiming } from "../outbox/signals.ts";
import { type ClientInfo, UNKNOWN_CLIENT } from "./devices.ts";
import {
  passwordFingerprint,
  RESET_PURPOSE,
  verifyLink,
} from "./token_purposes.ts";
import { clearLoginAttempts } from "../security/rate_limit.ts";
import { weakPasswordReason } from "../security/password_rules.ts";
import type {
  ChangePasswordInput,
  FieldErrors,
  ResetPasswordInput,
} from "./schemas.ts";
import { deleteUserSessions, type NewSession } from "./sessions.ts";
import { getUser, type User } from "./users.ts";
import { replacePassword, signalUser } from "./user_writes.ts";
import type { MailRequestOutcome } from "./accounts.ts";

/** Only an active account gets a link; every address gets the same answer. */
export async function requestPasswordReset(
  deps: Deps,
  email: string,
): Promise<MailRequestOutcome> {
  const res = await signalUser(
    deps.kv,
    email,
    (user) => user.isActive ? { type: "password_reset_requested" } : null,
    signalTiming(deps),
  );
  return res.ok ? res : { ok: false, reason: "retry" };
}

export type ResetLinkCheck =
  /** fingerprint: what the link is bound to, for the commit's guard. */
  | { ok: true; user: User; fingerprint: string }
  | { ok: false; reason: "invalid" }
  /**
   * Authentic, but too old, or used (the password changed since). `user`:
   * the active account it names (null: none now), for a fresh link.
   */
  | { ok: false; reason: "expired" | "used"; user: User | null };

/** Whether a reset link still works, without changing anything. */
export async function checkResetLink(
  deps: Deps,
  token: string,
): Promise<ResetLinkCheck> {
  const now = deps.clock.now();
  const verified = await verifyLink(deps.signer, RESET_PURPOSE, token, {
    maxAgeMs: deps.config.passwordResetMaxAgeMs,
    now,
  });
  if (!verified.ok && verified.reason === "invalid") return verified;
  const found = await getUser(deps.kv, verified.payload.sub, now);
  const user = found?.isActive ? found : null;
  if (!verified.ok) return { ok: false, reason: "expired", user };
  const fingerprint = verified.payload.h;
  if (!user || !await resetLinkMatches(user, fingerprint)) {
    return { ok: false, reason: "used", user };
  }
  return { ok: true, user, fingerprint: fingerprint! };
}

async function resetLinkMatches(user: User, h: string | undefined) {
  // A used link, or one from before a password change, no longer matches.
  return user.isActive && h !== undefined &&
    h === await passwordFingerprint(user);
}

/** The person's own name or address makes a weak password here too. */
function personalWeakness(user: User, password: string): FieldErrors | null {
  const reason = weakPasswordReason(password, [user.email, user.firstName]);
  return reason === "personal" ? { password: "password.weak_personal" } : null;
}

export type ResetOutcome =
  | { ok: true; user: User; session: NewSession }
  | { ok: false; reason: "invalid" | "expired" | "retry" }
  | { ok: false; reason: "fields"; errors: FieldErrors };

/**
 * Saves the new password and signs the person in, in one commit that only
 * succeeds while the link still matches the stored hash (so it works once).
 * That commit raises the credential epoch, which ends every other session,
 * even one a sign-in with the old password commits a moment later.
 */
export async function resetPassword(
  deps: Deps,
  token: string,
  input: ResetPasswordInput,
  /** Who resets: the new session's device and the audit event's. */
  client: ClientInfo = UNKNOWN_CLIENT,
): Promise<ResetOutcome> {
  const link = await checkResetLink(deps, token);
  // The API has said "invalid" for a used link since before pages told them
  // apart; it keeps its codes.
  if (!link.ok) {
    return {
      ok: false,
      reason: link.reason === "used" ? "invalid" : link.reason,
    };
  }
  const errors = personalWeakness(link.user, input.password);
  if (errors) return { ok: false, reason: "fields", errors };
  const passwordHash = await deps.passwords.hash(input.password);
  const res = await replacePassword(deps.kv, link.user.id, passwordHash, {
    now: deps.clock.now(),
    allow: (user) => resetLinkMatches(user, link.fingerprint),
    sessionTtlMs: deps.config.sessionTtlMs,
    client,
    audit: { type: "password_reset", client },
  });
  if (!res.ok) {
    return {
      ok: false,
      reason: res.reason === "conflict" ? "retry" : "invalid",
    };
  }
  await deleteUserSessions(deps.kv, res.user.id, res.session!.idHash);
  await clearLoginAttempts(deps.kv, res.user.email);
  return { ok: true, user: res.user, session: res.session! };
}

export type ChangeOutcome =
  | { ok: true; endedSessions: number }
  | { ok: false; reason: "retry" }
  | { ok: false; reason: "fields"; errors: FieldErrors };

/** Needs the current password; ends every session but the caller's. */
export async function changePassword(
  deps: Deps,
  user: User,
  keepSessionIdHash: string,
  input: ChangePasswordInput,
  client: ClientInfo = UNKNOWN_CLIENT,
): Promise<ChangeOutcome> {
  if (!await deps.passwords.verify(input.current_password, user.passwordHash)) {
    return {
      ok: false,
      reason: "fields",
      errors: { current_password: "current_password.wrong" },
    };
  }
  const errors = personalWeakness(user, input.password);
  if (errors) return { ok: false, reason: "fields", errors };
  const passwordHash = await deps.passwords.hash(input.password);
  const res = await replacePassword(deps.kv, user.id, passwordHash, {
    now: deps.clock.now(),
    // Unchanged since the current password was checked against it.
    allow: (current) =>
      current.isActive && current.passwordHash === user.passwordHash,
    // The caller's session moves to the new credential epoch; every other
    // one ends with the commit (deleting them below only tidies up).
    keepSessionIdHash,
    audit: { type: "password_changed", client },
  });
  if (!res.ok) return { ok: false, reason: "retry" };
  const endedSessions = await deleteUserSessions(
    deps.kv,
    user.id,
    keepSessionIdHash,
  );
  return { ok: true, endedSessions };
}
