// lib/accounts/ — people and their accounts. The users store: the record
// and its reads (users.ts) and every guarded write of it (user_writes.ts;
// email_change.ts and deletion.ts also move or remove a user with its index,
// in commits of their own). Sessions, registration, activation and sign-in
// (this file, sign_in.ts), password reset and change, the personal-data table with
// export and deletion, the operator's commands (user_admin.ts), token
// purposes, and the zod schemas pages, API and islands share. It may import
// outbox/ (a change and its signal commit together),
// security/, mail/, kv/, i18n/ and app/'s foundation; never web/ or routes/.
//
// The account services the pages (and the JSON API) call: register, look at
// an activation link, activate (signing in: sign_in.ts). Every expected
// failure is a value.
import type { AppDeps, Deps } from "../app/deps.ts";
import { signalTiming } from "../outbox/signals.ts";
import { type ClientInfo } from "./devices.ts";
import { ACTIVATION_PURPOSE, verifyLink } from "./token_purposes.ts";
import { countActivation, countRegistration } from "../app/metrics.ts";
import * as z from "zod/mini";
import { ChangePasswordSchema, type RegisterInput } from "./schemas.ts";
import { type NewSession } from "./sessions.ts";
import { activationNeeds, getUser, getUserEntry, isLive } from "./users.ts";
import {
  activateUser,
  type ActivationProof,
  createPendingUser,
  type SignalChoice,
  signalUser,
} from "./user_writes.ts";
import type { User } from "./users.ts";

export type RegisterOutcome =
  /**
   * userId is null for a taken email: the person sees the same answer, and
   * the address's owner gets a mail (outboxId) instead.
   */
  | {
    ok: true;
    userId: string | null;
    outboxId: string | null;
    /**
     * For the registering browser's cookie: matches the record when this
     * registration set its credentials, and nothing anywhere otherwise.
     */
    registrant: string;
  }
  | { ok: false; reason: "retry" };

export async function registerAccount(
  deps: Deps,
  input: RegisterInput,
  lang: string,
): Promise<RegisterOutcome> {
  // Hash before looking at the email, so a taken address answers as slowly
  // as a free one.
  const passwordHash = await deps.passwords.hash(input.password);
  const registrant = crypto.randomUUID();
  const res = await createPendingUser(deps.kv, {
    firstName: input.first_name,
    email: input.email,
    passwordHash,
    lang,
    registrant,
  }, {
    ...signalTiming(deps),
    pendingTtlMs: deps.config.pendingUserTtlMs,
  });
  if (res.ok) {
    countRegistration("new");
    return {
      ok: true,
      userId: res.user.id,
      outboxId: res.outboxId,
      registrant,
    };
  }
  if (res.reason === "email_taken") {
    const replace = {
      firstName: input.first_name,
      passwordHash,
      lang,
      registrant,
    };
    const told = await signalUser(
      deps.kv,
      input.email,
      onRegisterAgain(replace),
      signalTiming(deps),
    );
    if (!told.ok) return { ok: false, reason: "retry" };
    countRegistration("again");
    return { ok: true, userId: null, outboxId: told.outboxId, registrant };
  }
  return { ok: false, reason: "retry" };
}

function verifyActivationToken(deps: Deps, token: string, now: number) {
  return deps.signer.verify(ACTIVATION_PURPOSE, token, {
    maxAgeMs: deps.config.activationMaxAgeMs,
    now,
  });
}

/**
 * Registering an address again mails its owner at most this often: a burst
 * of sign-ups with one address (a double click, a script) is one mail, not
 * a mail bomb. "Didn't get the email?" is not held back by it.
 */
export const REGISTER_AGAIN_MAIL_COOLDOWN_MS = 120_000;

/**
 * A pending address registered again takes the new registrant's name,
 * password and language, and its owner gets a fresh link (older ones die).
 * Nobody has proved the address yet, so the latest registration is as good
 * as the first, and the first must not keep its password: otherwise an
 * attacker registers a victim's address first and, once the victim activates
 * "her" account from her own mail, signs in with his password (pre-account
 * hijacking). An active account keeps everything; its owner hears someone
 * tried.
 */
function onRegisterAgain(
  replace: Pick<User, "firstName" | "passwordHash" | "lang" | "registrant">,
): (user: User) => SignalChoice {
  const cooldownMs = REGISTER_AGAIN_MAIL_COOLDOWN_MS;
  return (user) => {
    if (!user.isActivated) {
      return { type: "activation_requested", cooldownMs, replace };
    }
    return user.isActive
      ? { type: "registration_attempted_on_active", cooldownMs }
      : null;
  };
}

export type MailRequestOutcome =
  /** The same for every address; outboxId says only whether a mail is due. */
  | { ok: true; outboxId: string | null }
  | { ok: false; reason: "retry" };

/**
 * "Didn't get the email?": a pending user gets a new link and every older
 * one stops working; anyone else gets nothing, and the caller cannot tell.
 */
export async function resendActivation(
  deps: Deps,
  email: string,
): Promise<MailRequestOutcome> {
  const res = await signalUser(
    deps.kv,
    email,
    (user) =>
      user.isActivated
        ? null
        : { type: "activation_requested", bumpTokenVersion: true },
    signalTiming(deps),
  );
  return res.ok ? res : { ok: false, reason: "retry" };
}

/**
 * Delivers at once where there is no KV queue (Deno Deploy); the cron sweep
 * stays the safety net. With a queue the listener has it already.
 */
export function deliverSoon(
  deps: Pick<AppDeps, "config" | "deliverer" | "log">,
  outboxId: string | null,
): void {
  if (!outboxId || deps.config.signalQueue !== "none") return;
  deps.deliverer.deliver(outboxId).catch((err) =>
    deps.log.error("immediate delivery failed", { outboxId, error: err })
  );
}

export type LinkCheck =
  | { ok: true; user: User }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "already_active" }
  /**
   * Authentic, but too old or retired by a newer link. `user`: the pending
   * account it names (null: gone), so the page can offer a fresh link to it.
   */
  | { ok: false; reason: "expired"; user: User | null }
  | { ok: false; reason: "replaced"; user: User };

/**
 * What an activation link points at, without changing anything: the account,
 * or why the link no longer works (broken, expired, replaced by a newer one).
 */
export async function checkActivationLink(
  deps: Deps,
  token: string,
): Promise<LinkCheck> {
  const now = deps.clock.now();
  const verified = await verifyLink(deps.signer, ACTIVATION_PURPOSE, token, {
    maxAgeMs: deps.config.activationMaxAgeMs,
    now,
  });
  if (!verified.ok && verified.reason === "invalid") return verified;
  const user = await getUser(deps.kv, verified.payload.sub, now);
  if (user?.isActivated) return { ok: false, reason: "already_active" };
  if (!verified.ok) return { ok: false, reason: "expired", user };
  if (!user) return { ok: false, reason: "invalid" };
  const v = verified.payload.v;
  // Older: a newer link went out since. Newer or none: never issued.
  if (v !== undefined && v < user.tokenVersion) {
    return { ok: false, reason: "replaced", user };
  }
  if (v !== user.tokenVersion) return { ok: false, reason: "invalid" };
  return { ok: true, user };
}

/**
 * The account's password, typed to activate it outside the browser that
 * registered (the field and its messages are the account page's). Kept out
 * of lib/accounts/schemas.ts, which the browser bundle carries.
 */
export const ActivatePasswordSchema = z.object({
  current_password: ChangePasswordSchema.shape.current_password,
});

export type ActivateOutcome =
  | { ok: true; user: User; session: NewSession }
  /**
   * The link works, but this browser must prove it may activate (see
   * activationNeeds): `needs` says what the page offers, `wrong` that the
   * password typed is not the account's.
   */
  | {
    ok: false;
    reason: "password_required";
    user: User;
    needs: "password" | "new_password";
    wrong: boolean;
  }
  | {
    ok: false;
    reason: "invalid" | "expired" | "already_active" | "retry";
  };

/**
 * Activates the link's account and signs the person in. `registrant` is the
 * id this browser's "registered" cookie holds (null: none). Anywhere but the
 * browser that set the account's password, the person proves they may:
 * `currentPassword` must be the account's (not on a contested address), or
 * `newPassword` replaces it. Fields nobody asked for are ignored.
 */
export async function activateAccount(
  deps: Deps,
  token: string,
  opts: {
    registrant?: string | null;
    currentPassword?: string;
    newPassword?: string;
    /** Who activates (lib/devices.ts), kept with the new session. */
    client?: ClientInfo;
    /** The session this browser had: it ends in the activation's commit. */
    endSession?: { idHash: string; userId: string };
  } = {},
): Promise<ActivateOutcome> {
  const now = deps.clock.now();
  const verified = await verifyActivationToken(deps, token, now);
  if (!verified.ok) return verified;
  const tokenVersion = verified.payload.v ?? 0;
  const registrant = opts.registrant ?? null;
  // Read once: activateUser decides and commits on this same entry.
  const read = await getUserEntry(deps.kv, verified.payload.sub);
  const user = read.value && isLive(read.value, now) ? read.value : null;
  if (!user) return { ok: false, reason: "invalid" };
  if (user.isActivated) return { ok: false, reason: "already_active" };
  if (tokenVersion !== user.tokenVersion) {
    return { ok: false, reason: "invalid" };
  }
  // A password costs a hash, so only a link that can still activate, on an
  // account that asks for one, pays for it: otherwise anyone holding a used
  // or old link could burn CPU at will. (activateUser checks again inside
  // its guarded commit.)
  const needs = activationNeeds(user, registrant);
  let proof: ActivationProof = { registrant };
  let wrong = false;
  if (needs !== "nothing" && opts.newPassword) {
    proof = { newPasswordHash: await deps.passwords.hash(opts.newPassword) };
  } else if (needs === "password" && opts.currentPassword) {
    if (await deps.passwords.verify(opts.currentPassword, user.passwordHash)) {
      proof = { verifiedHash: user.passwordHash };
    } else wrong = true;
  }
  const res = wrong
    ? { ok: false as const, reason: "password_required" as const, user }
    : await activateUser(deps.kv, verified.payload.sub, {
      now,
      sessionTtlMs: deps.config.sessionTtlMs,
      tokenVersion,
      proof,
      client: opts.client,
      read,
      endSession: opts.endSession,
    });
  if (res.ok) {
    countActivation();
    return res;
  }
  if (res.reason === "password_required") {
    const needsNow = activationNeeds(res.user, registrant);
    if (needsNow === "nothing") return { ok: false, reason: "retry" };
    return {
      ok: false,
      reason: "password_required",
      user: res.user,
      needs: needsNow,
      wrong: wrong || ("wrong" in res && res.wrong),
    };
  }
  if (res.reason === "not_found") return { ok: false, reason: "invalid" };
  if (res.reason === "conflict") return { ok: false, reason: "retry" };
  return { ok: false, reason: res.reason };
}
