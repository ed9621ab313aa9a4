// Deleting an account: the person asks with the password, confirms with the
// mailed link; an operator deletes with `deno task users delete`. Both end in
// eraseAccount, which deletes every record lib/accounts/personal_data.ts lists, in as
// few commits as Deno KV's limits allow, the user record last, together with
// the goodbye mail.
import { v7 as uuidv7 } from "uuid";
import type { Deps } from "../app/deps.ts";
import { retryGuarded } from "../kv/guarded.ts";
import { keys } from "../kv/keys.ts";
import { DELETION_PURPOSE, deletionFingerprint } from "./token_purposes.ts";
import {
  findPersonalRecords,
  type PersonalTable,
  personalTables,
  personOf,
} from "./personal_data.ts";
import { addSignal, signalTiming } from "../outbox/signals.ts";
import { getUser, type User } from "./users.ts";
import { signalUser } from "./user_writes.ts";

/**
 * Deno KV's limits on one commit (denokv_proto's limits.rs: 10 checks, 1000
 * mutations, 800 KiB of mutations, 80 KiB of keys), with room to spare. A
 * deletion writes no values, so keys are what fill a commit.
 */
const MAX_MUTATIONS = 900;
const MAX_KEY_BYTES = 64 * 1024;
const MAX_TRIES = 5;

const encoder = new TextEncoder();
/** More than the key's encoded size: enough for packing commits. */
const keyBytes = (key: Deno.KvKey) =>
  encoder.encode(JSON.stringify(key)).length + 2 * key.length;

/** Mutations packed into commits within KV's limits; sums add up per key. */
class Batch {
  deletes: Deno.KvKey[] = [];
  sums = new Map<string, { key: Deno.KvKey; n: bigint }>();
  mutations = 0;
  bytes = 0;

  fits(muts: Deno.KvMutation[], room: { mutations: number; bytes: number }) {
    const bytes = muts.reduce((n, m) => n + keyBytes(m.key), 0);
    return this.mutations + muts.length <= room.mutations &&
      this.bytes + bytes <= room.bytes;
  }

  add(muts: Deno.KvMutation[]) {
    for (const m of muts) {
      this.mutations++;
      this.bytes += keyBytes(m.key);
      if (m.type === "delete") this.deletes.push(m.key);
      else if (m.type === "sum") {
        const id = JSON.stringify(m.key);
        const n = this.sums.get(id)?.n ?? 0n;
        this.sums.set(id, { key: m.key, n: n + m.value.value });
      } else throw new TypeError(`a deletion only deletes and sums`);
    }
  }

  into(atomic: Deno.AtomicOperation): Deno.AtomicOperation {
    for (const key of this.deletes) atomic.delete(key);
    for (const { key, n } of this.sums.values()) {
      atomic.sum(key, n);
    }
    return atomic;
  }
}

/** What removing one record takes: its table's own way, or a delete. */
function removal(
  table: keyof typeof personalTables,
  entry: Deno.KvEntry<unknown>,
): Deno.KvMutation[] {
  const row: PersonalTable = personalTables[table];
  return row.removal?.(entry) ?? [{ type: "delete", key: entry.key }];
}

export type EraseResult =
  | {
    ok: true;
    user: User;
    /** Records deleted, the user's own included. */
    records: number;
    commits: number;
    /** The goodbye mail's outbox entry (null: none was due). */
    outboxId: string | null;
  }
  | { ok: false; reason: "not_found" | "refused" | "conflict" };

/**
 * Deletes the user and every record naming them. The user record and the
 * email index go last, in one commit guarded by the user's versionstamp,
 * with the goodbye mail (an activated account only: a pending one never
 * proved its mailbox) and as many other records as fit; others go in
 * commits before it. A crash halfway leaves the account in place, so the
 * same link or command finishes the job. The address is free once the last
 * commit lands. `allow` sees the user as read (a link still matching it).
 */
export function eraseAccount(
  kv: Deno.Kv,
  userId: string,
  opts: {
    now: number;
    queue: boolean;
    allow?: (user: User) => boolean | Promise<boolean>;
  },
): Promise<EraseResult> {
  return retryGuarded(async (): Promise<EraseResult | undefined> => {
    const entry = await kv.get<User>(keys.user(userId));
    const user = entry.value;
    if (!user) return { ok: false, reason: "not_found" };
    if (opts.allow && !await opts.allow(user)) {
      return { ok: false, reason: "refused" };
    }
    const person = await personOf(kv, user);
    const index = await kv.get<string>(keys.userByEmail(user.email));
    const last = new Batch();
    last.add([{ type: "delete", key: entry.key }]);
    if (index.value === user.id) last.add([{ type: "delete", key: index.key }]);
    // The goodbye's entry, its counter and queue message: room kept for them.
    const room = { mutations: MAX_MUTATIONS - 3, bytes: MAX_KEY_BYTES - 512 };
    const before: Batch[] = [];
    let records = last.mutations;
    for await (const { table, entry: rec } of findPersonalRecords(kv, person)) {
      if (table === "users" || table === "users_by_email") continue;
      const muts = removal(table, rec);
      records++;
      if (last.fits(muts, room)) {
        last.add(muts);
        continue;
      }
      let batch = before.at(-1);
      if (!batch || !batch.fits(muts, room)) before.push(batch = new Batch());
      batch.add(muts);
    }
    for (const batch of before) await batch.into(kv.atomic()).commit();
    const final = last.into(kv.atomic().check(entry).check(index));
    const outboxId = user.isActivated ? uuidv7() : null;
    if (outboxId) {
      addSignal(final, {
        type: "account_deleted",
        email: user.email,
        firstName: user.firstName,
        lang: user.lang,
      }, { id: outboxId, now: opts.now, queue: opts.queue });
    }
    // Changed meanwhile (a password change, a sign-in's rehash): read again.
    if (!(await final.commit()).ok) return undefined;
    // Whatever was written while we read (a sign-in racing the deletion, a
    // rate-limit hit): one more pass, the goodbye's own entry excepted.
    const late = new Batch();
    for await (const { table, entry: rec } of findPersonalRecords(kv, person)) {
      if (outboxId && rec.key[1] === outboxId) continue;
      const muts = removal(table, rec);
      if (!late.fits(muts, room)) break; // a flood meanwhile: it lapses
      late.add(muts);
      records++;
    }
    if (late.mutations) await late.into(kv.atomic()).commit();
    return {
      ok: true,
      user,
      records,
      commits: before.length + 1 + (late.mutations ? 1 : 0),
      outboxId,
    };
  }, {
    tries: MAX_TRIES,
    exhausted: () => ({ ok: false, reason: "conflict" }),
  });
}

export type DeletionRequestOutcome =
  | { ok: true; outboxId: string | null }
  | { ok: false; reason: "wrong_password" | "retry" }
  | { ok: false; reason: "limited"; retryAfterMs: number };

/**
 * The current password, then a mail with the link that confirms: a stolen
 * session alone cannot delete the account. `mayMail` applies the mail's
 * limits, once the password is right (a typo must not cost the interval).
 */
export async function requestAccountDeletion(
  deps: Deps,
  user: User,
  password: string,
  mayMail: () => Promise<{ ok: true } | { ok: false; retryAfterMs: number }>,
): Promise<DeletionRequestOutcome> {
  if (!await deps.passwords.verify(password, user.passwordHash)) {
    return { ok: false, reason: "wrong_password" };
  }
  const limited = await mayMail();
  if (!limited.ok) {
    return { ok: false, reason: "limited", retryAfterMs: limited.retryAfterMs };
  }
  const res = await signalUser(
    deps.kv,
    user.email,
    // Only while the password checked is still the account's.
    (current) =>
      current.id === user.id && current.isActive &&
        current.passwordHash === user.passwordHash
        ? { type: "account_deletion_requested" }
        : null,
    signalTiming(deps),
  );
  return res.ok ? res : { ok: false, reason: "retry" };
}

export type DeletionLinkCheck =
  | { ok: true; user: User; fingerprint: string }
  | { ok: false; reason: "invalid" | "expired" };

async function linkMatches(user: User, h: string | undefined) {
  return user.isActive && h !== undefined &&
    h === await deletionFingerprint(user);
}

/** Whether a deletion link still works, without changing anything. */
export async function checkDeletionLink(
  deps: Deps,
  token: string,
): Promise<DeletionLinkCheck> {
  const now = deps.clock.now();
  const verified = await deps.signer.verify(DELETION_PURPOSE, token, {
    maxAgeMs: deps.config.accountDeletionMaxAgeMs,
    now,
  });
  if (!verified.ok) return verified;
  const user = await getUser(deps.kv, verified.payload.sub, now);
  const fingerprint = verified.payload.h;
  if (!user || !await linkMatches(user, fingerprint)) {
    return { ok: false, reason: "invalid" };
  }
  return { ok: true, user, fingerprint: fingerprint! };
}

export type DeletionOutcome =
  | { ok: true; user: User; outboxId: string | null }
  | { ok: false; reason: "invalid" | "expired" | "retry" };

/** Deletes the link's account, while the link still matches it. */
export async function confirmAccountDeletion(
  deps: Deps,
  token: string,
): Promise<DeletionOutcome> {
  const link = await checkDeletionLink(deps, token);
  if (!link.ok) return link;
  const res = await eraseAccount(deps.kv, link.user.id, {
    ...signalTiming(deps),
    allow: (user) => linkMatches(user, link.fingerprint),
  });
  if (res.ok) return { ok: true, user: res.user, outboxId: res.outboxId };
  return { ok: false, reason: res.reason === "conflict" ? "retry" : "invalid" };
}
