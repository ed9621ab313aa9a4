// The users store's writes: every atomic commit that creates or changes a
// user record and its unique email index, each guarded by the versions it
// read and retried on a lost race (retryGuarded). Expected failures (a taken
// email, a lost race) are values. The record itself: users.ts.
// Long by design: each write is one guarded commit with its own rules, and
// keeping every write of a user record in one file is the point of the file.
import { v7 as uuidv7 } from "uuid";
import { addAuditEvent, type AuditInput } from "./audit.ts";
import { type ClientInfo, UNKNOWN_CLIENT } from "./devices.ts";
import { retryGuarded } from "../kv/guarded.ts";
import { keys } from "../kv/keys.ts";
import { addSignal, type UserOnlySignalType } from "../outbox/signals.ts";
import {
  addSession,
  endSessionIn,
  type NewSession,
  newSession,
  type Session,
} from "./sessions.ts";

import {
  activationNeeds,
  epochOf,
  getUserByEmail,
  isLive,
  type User,
} from "./users.ts";

/** Tries per write before a conflict is reported; KV conflicts are rare. */
const MAX_TRIES = 5;
/** Guarded writes of a user give up after MAX_TRIES lost races. */
const CONFLICT = {
  tries: MAX_TRIES,
  exhausted: () => ({ ok: false, reason: "conflict" }) as const,
};

export interface NewUserInput {
  firstName: string;
  email: string;
  passwordHash: string;
  lang: string;
  /** See UserSchema.registrant. */
  registrant?: string;
}

export type CreateUserResult =
  | { ok: true; user: User; outboxId: string }
  | { ok: false; reason: "email_taken" | "conflict" };

/**
 * Stores a pending user, its email index and the `user_registered` signal in
 * one commit. A stale pending registration for the same email (past its TTL
 * but not yet collected by KV) is replaced in that same commit.
 */
export function createPendingUser(
  kv: Deno.Kv,
  input: NewUserInput,
  opts: { now: number; pendingTtlMs: number; queue: boolean },
): Promise<CreateUserResult> {
  const { now, pendingTtlMs, queue } = opts;
  return retryGuarded(async (): Promise<CreateUserResult | undefined> => {
    const index = await kv.get<string>(keys.userByEmail(input.email));
    // The index must still be exactly what we saw: free, or the stale value.
    const atomic = kv.atomic().check(index);
    if (index.value) {
      const old = await kv.get<User>(keys.user(index.value));
      if (old.value && isLive(old.value, now)) {
        return { ok: false, reason: "email_taken" };
      }
      atomic.check(old).delete(keys.user(index.value));
    }
    const user: User = {
      id: uuidv7(),
      firstName: input.firstName,
      email: input.email,
      passwordHash: input.passwordHash,
      lang: input.lang,
      isActivated: false,
      isActive: false,
      createdAt: now,
      activatedAt: null,
      pendingUntil: now + pendingTtlMs,
      tokenVersion: 0,
      ...(input.registrant ? { registrant: input.registrant } : {}),
    };
    atomic
      .check({ key: keys.user(user.id), versionstamp: null })
      .set(keys.user(user.id), user, { expireIn: pendingTtlMs })
      .set(keys.userByEmail(user.email), user.id, { expireIn: pendingTtlMs });
    const outboxId = uuidv7();
    addSignal(atomic, { type: "user_registered", userId: user.id }, {
      id: outboxId,
      now,
      queue,
    });
    const res = await atomic.commit();
    if (res.ok) return { ok: true, user, outboxId };
    // Someone else wrote the index between our read and commit: look again.
  }, CONFLICT);
}

function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

export type ActivateResult =
  | { ok: true; user: User; session: NewSession }
  | { ok: false; reason: "password_required"; user: User; wrong: boolean }
  | { ok: false; reason: "not_found" | "already_active" | "conflict" };

/** How the person activating proved they may (see activationNeeds). */
export type ActivationProof =
  /** The id in the browser's "registered" cookie (null: none). */
  | { registrant: string | null }
  /** The stored hash the caller checked the typed password against. */
  | { verifiedHash: string }
  /** A new password, which replaces the stored one. */
  | { newPasswordHash: string };

/**
 * Activates a pending user and signs them in, in one commit guarded by the
 * user's versionstamp: of many simultaneous clicks exactly one wins, and only
 * the winner gets a session. `proof` must answer what activationNeeds asks
 * of the record as it is at the commit (a password checked against a hash
 * that has since been replaced proves nothing).
 */
export async function activateUser(
  kv: Deno.Kv,
  userId: string,
  opts: {
    now: number;
    sessionTtlMs: number;
    tokenVersion?: number;
    proof: ActivationProof;
    /** Who activates: kept with the session and its "signed_in" event. */
    client?: ClientInfo;
    /**
     * The user's entry as the caller just read it: the first try decides on
     * it instead of reading again (the commit checks its versionstamp, so a
     * stale one loses like any race, and the next try reads afresh).
     */
    read?: Deno.KvEntryMaybe<User>;
    /**
     * The session the activating browser had (any account's): it ends in
     * the commit that signs the browser in to this one, never one without
     * the other.
     */
    endSession?: Pick<Session, "userId"> & { idHash: string };
  },
): Promise<ActivateResult> {
  const { now, sessionTtlMs, proof, read } = opts;
  const key = keys.user(userId);
  if (read && !sameKey(read.key, key)) {
    throw new Error("activateUser: the entry read is not this user's");
  }
  return await retryGuarded(async (n): Promise<ActivateResult | undefined> => {
    const entry = n === 0 && read ? read : await kv.get<User>(key);
    const current = entry.value;
    if (!current || !isLive(current, now)) {
      return { ok: false, reason: "not_found" };
    }
    if (current.isActivated) return { ok: false, reason: "already_active" };
    if (
      opts.tokenVersion !== undefined &&
      opts.tokenVersion !== current.tokenVersion
    ) {
      return { ok: false, reason: "not_found" };
    }
    const needs = activationNeeds(
      current,
      "registrant" in proof ? proof.registrant : null,
    );
    const proven = needs === "nothing" || "newPasswordHash" in proof ||
      (needs === "password" && "verifiedHash" in proof &&
        proof.verifiedHash === current.passwordHash);
    if (!proven) {
      return {
        ok: false,
        reason: "password_required",
        user: current,
        wrong: "verifiedHash" in proof,
      };
    }
    const { registrant: _r, contested: _c, ...settled } = current;
    const replaced = "newPasswordHash" in proof;
    const user: User = {
      ...settled,
      passwordHash: replaced ? proof.newPasswordHash : current.passwordHash,
      isActivated: true,
      isActive: true,
      activatedAt: now,
      pendingUntil: null,
      ...(replaced ? { credentialEpoch: epochOf(current) + 1 } : {}),
    };
    const client = opts.client ?? UNKNOWN_CLIENT;
    const session = await newSession(
      user.id,
      now,
      sessionTtlMs,
      epochOf(user),
      client,
    );
    // Rewritten without expireIn: an active account and its index stay.
    const atomic = kv.atomic()
      .check(entry)
      .set(keys.user(user.id), user)
      .set(keys.userByEmail(user.email), user.id);
    addSession(atomic, session, sessionTtlMs);
    if (opts.endSession) endSessionIn(atomic, opts.endSession);
    addAuditEvent(atomic, user.id, { type: "signed_in", client }, now);
    const res = await atomic.commit();
    if (res.ok) return { ok: true, user, session };
  }, CONFLICT);
}

/** What to announce about a user, or null for nothing. */
export type SignalChoice = {
  type: UserOnlySignalType;
  /**
   * Retires every activation link mailed so far, only ever together with a
   * mail carrying a newer one (never while cooling down).
   */
  bumpTokenVersion?: boolean;
  /** Queue nothing if a mail to this owner was queued more recently. */
  cooldownMs?: number;
  /**
   * New credentials for a pending record (someone registered the address
   * again). Links already mailed keep working: while the mail cooldown holds
   * the new mail back, they are all the mailbox has, and outside the
   * registering browser they ask for a new password anyway.
   */
  replace?: Pick<User, "firstName" | "passwordHash" | "lang" | "registrant">;
} | null;

export type SignalUserResult =
  | { ok: true; outboxId: string | null }
  | { ok: false; reason: "conflict" };

/**
 * Adds a signal about the user behind `email`, chosen by `choose` from the
 * user as read, in one commit guarded by that read: a resend that raises the
 * token version and the mail announcing it land together or not at all.
 * An unknown address is `{ ok: true, outboxId: null }`, like "nothing to do".
 */
export function signalUser(
  kv: Deno.Kv,
  email: string,
  choose: (user: User) => SignalChoice,
  opts: { now: number; queue: boolean },
): Promise<SignalUserResult> {
  const { now, queue } = opts;
  return retryGuarded(async (): Promise<SignalUserResult | undefined> => {
    const index = await kv.get<string>(keys.userByEmail(email));
    if (!index.value) return { ok: true, outboxId: null };
    const entry = await kv.get<User>(keys.user(index.value));
    if (!entry.value || !isLive(entry.value, now)) {
      return { ok: true, outboxId: null };
    }
    const choice = choose(entry.value);
    if (!choice) return { ok: true, outboxId: null };
    const mailedAt = entry.value.mailedAt ?? entry.value.createdAt;
    const coolingDown = Boolean(
      choice.cooldownMs && now - mailedAt < choice.cooldownMs,
    );
    if (coolingDown && !choice.replace) return { ok: true, outboxId: null };
    const user: User = {
      ...entry.value,
      ...choice.replace,
      // A second registrant: from now on nobody can vouch for the password.
      ...(choice.replace ? { contested: true } : {}),
      mailedAt: coolingDown ? entry.value.mailedAt : now,
      tokenVersion: entry.value.tokenVersion +
        (choice.bumpTokenVersion && !coolingDown ? 1 : 0),
    };
    // A pending record keeps the expiry it had.
    const expireIn = user.pendingUntil === null
      ? undefined
      : user.pendingUntil - now;
    const atomic = kv.atomic().check(index).check(entry)
      .set(keys.user(user.id), user, { expireIn });
    // Cooling down: the credentials may change, but no mail, so no link
    // may die either (see bumpTokenVersion).
    const outboxId = coolingDown ? null : uuidv7();
    if (outboxId) {
      addSignal(atomic, { type: choice.type, userId: entry.value.id }, {
        id: outboxId,
        now,
        queue,
      });
    }
    if ((await atomic.commit()).ok) return { ok: true, outboxId };
    // A burst of registrations of one address: whoever wrote the record
    // just now (another registrant, or an activation) wins, as if it had
    // come after us. Nothing is owed to this request but the same answer.
    if (coolingDown) return { ok: true, outboxId: null };
  }, CONFLICT);
}

export type ReplacePasswordResult =
  | { ok: true; user: User; session: NewSession | null }
  | { ok: false; reason: "not_found" | "refused" | "conflict" };

/**
 * Swaps a stored hash for a stronger one of the same password (new Argon2id
 * parameters). The credential epoch stays, so no session ends; only while
 * `from` is still the stored hash, so a change or reset meanwhile wins.
 */
export async function upgradePasswordHash(
  kv: Deno.Kv,
  userId: string,
  from: string,
  to: string,
): Promise<boolean> {
  const entry = await kv.get<User>(keys.user(userId));
  if (!entry.value || entry.value.passwordHash !== from) return false;
  const user: User = { ...entry.value, passwordHash: to };
  const res = await kv.atomic().check(entry).set(keys.user(userId), user)
    .commit();
  return res.ok;
}

/**
 * Stores a new password hash if `allow` accepts the user as read (e.g. the
 * reset link still matches the old hash), optionally with a new session, in
 * one commit guarded by that read: of two uses of one reset link, one wins.
 * The same commit raises the credential epoch, which ends every session made
 * before it, including a sign-in that read the old hash and commits its
 * session later; `keepSessionIdHash` (the caller's own) moves to the new
 * epoch in that commit.
 */
export function replacePassword(
  kv: Deno.Kv,
  userId: string,
  passwordHash: string,
  opts: {
    now: number;
    allow: (user: User) => boolean | Promise<boolean>;
    /** Set to sign the person in within the same commit. */
    sessionTtlMs?: number;
    keepSessionIdHash?: string;
    /** The device of the session made here (with sessionTtlMs). */
    client?: ClientInfo;
    /** Committed with the change ("password_changed", "password_reset"). */
    audit?: AuditInput;
  },
): Promise<ReplacePasswordResult> {
  return retryGuarded(async (): Promise<ReplacePasswordResult | undefined> => {
    const entry = await kv.get<User>(keys.user(userId));
    if (!entry.value || !isLive(entry.value, opts.now)) {
      return { ok: false, reason: "not_found" };
    }
    if (!await opts.allow(entry.value)) return { ok: false, reason: "refused" };
    const user: User = {
      ...entry.value,
      passwordHash,
      credentialEpoch: epochOf(entry.value) + 1,
    };
    const atomic = kv.atomic().check(entry).set(keys.user(userId), user);
    if (opts.keepSessionIdHash) {
      const kept = await kv.get<Session>(keys.session(opts.keepSessionIdHash));
      if (kept.value && kept.value.userId === userId) {
        const ttl = kept.value.expiresAt - opts.now;
        if (ttl > 0) {
          atomic.check(kept).set(kept.key, {
            ...kept.value,
            epoch: epochOf(user),
          }, { expireIn: ttl });
        }
      }
    }
    let session: NewSession | null = null;
    if (opts.sessionTtlMs) {
      session = await newSession(
        userId,
        opts.now,
        opts.sessionTtlMs,
        epochOf(user),
        opts.client,
      );
      addSession(atomic, session, opts.sessionTtlMs);
    }
    if (opts.audit) addAuditEvent(atomic, userId, opts.audit, opts.now);
    if ((await atomic.commit()).ok) return { ok: true, user, session };
  }, CONFLICT);
}

export type UpdateUserResult =
  | { ok: true; user: User }
  | { ok: false; reason: "not_found" | "unchanged" | "conflict" };

/**
 * An operator's change to the user at `email` (tools/users.ts): `change`
 * returns the new record, or null when there is nothing to do. Committed
 * guarded by the version read, user and index both without expireIn: an
 * operator's decision does not lapse.
 */
export function updateUserByEmail(
  kv: Deno.Kv,
  email: string,
  now: number,
  change: (user: User) => User | null,
): Promise<UpdateUserResult> {
  return retryGuarded(async (): Promise<UpdateUserResult | undefined> => {
    const found = await getUserByEmail(kv, email, now);
    if (!found) return { ok: false, reason: "not_found" };
    const entry = await kv.get<User>(keys.user(found.id));
    if (!entry.value) return { ok: false, reason: "not_found" };
    const next = change(entry.value);
    if (!next) return { ok: false, reason: "unchanged" };
    const res = await kv.atomic().check(entry)
      .set(keys.user(next.id), next)
      .set(keys.userByEmail(next.email), next.id)
      .commit();
    if (res.ok) return { ok: true, user: next };
  }, CONFLICT);
}
