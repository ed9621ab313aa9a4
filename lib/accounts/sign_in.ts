// Signing in: the password checked against the account (never telling a
// wrong password from an unknown address), the attempt counted before the
// check, a weaker stored hash replaced, and a pending account's owner
// reminded of the link instead of being let in.
import type { AppDeps, Deps } from "../app/deps.ts";
import { signalTiming } from "../outbox/signals.ts";
import { type ClientInfo, UNKNOWN_CLIENT } from "./devices.ts";
import { countLogin } from "../app/metrics.ts";
import {
  beginLoginAttempt,
  clearLoginAttempts,
} from "../security/rate_limit.ts";
import { type LoginInput } from "./schemas.ts";
import { createSession, type NewSession } from "./sessions.ts";
import { epochOf, getUserByEmail } from "./users.ts";
import { signalUser, upgradePasswordHash } from "./user_writes.ts";
import type { User } from "./users.ts";
import { deliverSoon, REGISTER_AGAIN_MAIL_COOLDOWN_MS } from "./accounts.ts";

export type SignInOutcome =
  | { ok: true; user: User; session: NewSession }
  | { ok: false; reason: "failed" | "inactive" | "retry" }
  | { ok: false; reason: "throttled"; retryAfterMs: number };

/**
 * Stores a hash with the configured parameters when the stored one is weaker
 * (PASSWORD_MEMORY_KIB / PASSWORD_ITERATIONS raised since). Only the hash it
 * replaces is overwritten (a change or reset meanwhile wins), and no session
 * ends (the password is the same); a busy hasher or a lost race leaves it for
 * the next sign-in.
 */
async function rehashIfWeaker(
  deps: Deps,
  user: User,
  password: string,
): Promise<void> {
  if (!deps.passwords.needsRehash(user.passwordHash)) return;
  try {
    const passwordHash = await deps.passwords.hash(password);
    await upgradePasswordHash(
      deps.kv,
      user.id,
      user.passwordHash,
      passwordHash,
    );
  } catch (error) {
    deps.log.warn("rehash on sign-in skipped", { error });
  }
}

/**
 * A sign-in with the right password on an account still waiting for
 * activation mails its owner a fresh link, at most once per this.
 */
export const SIGN_IN_REMINDER_COOLDOWN_MS = REGISTER_AGAIN_MAIL_COOLDOWN_MS;

/**
 * Checks the password and, in one commit, creates a session stamped with the
 * credential epoch read with the hash, so a password change that commits
 * in between leaves it worthless. A pending account answers exactly like a
 * wrong password (otherwise "register, then sign in" tells a stranger
 * whether the address had an account); its owner gets a fresh link instead,
 * after the answer has gone.
 */
export async function signIn(
  deps: AppDeps,
  input: LoginInput,
  /** The client (its IP): failures slow down this client, not the owner. */
  from: string,
  /** Its device and network, kept with the session and the audit event. */
  client: ClientInfo = UNKNOWN_CLIENT,
): Promise<SignInOutcome> {
  const outcome = await trySignIn(deps, input, from, client);
  countLogin(outcome.ok ? "ok" : outcome.reason);
  return outcome;
}

async function trySignIn(
  deps: AppDeps,
  input: LoginInput,
  from: string,
  client: ClientInfo,
): Promise<SignInOutcome> {
  const now = deps.clock.now();
  // Known or unknown address alike, so throttling reveals nothing.
  const turn = await beginLoginAttempt(
    deps.kv,
    input.email,
    from,
    deps.config.loginFreeFailures,
    now,
  );
  if (!turn.ok) {
    return { ok: false, reason: "throttled", retryAfterMs: turn.retryAfterMs };
  }
  const user = await getUserByEmail(deps.kv, input.email, now);
  if (!user) {
    // Same cost as a wrong password, so timing does not reveal accounts.
    await deps.passwords.verifyDummy(input.password);
    return { ok: false, reason: "failed" };
  }
  if (!await deps.passwords.verify(input.password, user.passwordHash)) {
    return { ok: false, reason: "failed" };
  }
  if (!user.isActivated) {
    // Counted as a failure (nothing cleared), like a wrong password.
    deps.background(
      "activation reminder",
      () => remindActivation(deps, input.email),
    );
    return { ok: false, reason: "failed" };
  }
  await clearLoginAttempts(deps.kv, input.email);
  // Only someone who knows the password learns the account's state.
  if (!user.isActive) return { ok: false, reason: "inactive" };
  await rehashIfWeaker(deps, user, input.password);
  const session = await createSession(
    deps.kv,
    user.id,
    now,
    deps.config.sessionTtlMs,
    epochOf(user),
    client,
  );
  return session ? { ok: true, user, session } : { ok: false, reason: "retry" };
}

/** A fresh link for a pending account, within the mail cooldown. */
async function remindActivation(deps: AppDeps, email: string) {
  const res = await signalUser(
    deps.kv,
    email,
    (user) =>
      user.isActivated ? null : {
        type: "activation_requested",
        cooldownMs: SIGN_IN_REMINDER_COOLDOWN_MS,
      },
    signalTiming(deps),
  );
  if (res.ok) deliverSoon(deps, res.outboxId);
}
