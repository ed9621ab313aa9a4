// What operators do to accounts (tools/users.ts): activate by hand,
// deactivate, delete everything about a user, look at the outbox and revive
// its dead letters.
import { eraseAccount } from "./deletion.ts";
import { keys } from "../kv/keys.ts";
import type { DeadLetter, OutboxEntry } from "../outbox/signals.ts";
import { deleteUserSessions } from "./sessions.ts";
import { getUserByEmail } from "./users.ts";
import { updateUserByEmail, type UpdateUserResult } from "./user_writes.ts";

export type AdminResult = UpdateUserResult & { detail?: string };

/** Activates (or re-enables) an account without a mailed link. */
export function activateByOperator(kv: Deno.Kv, email: string, now: number) {
  return updateUserByEmail(
    kv,
    email,
    now,
    ({ registrant: _r, contested: _c, ...user }) =>
      user.isActivated && user.isActive ? null : {
        ...user,
        isActivated: true,
        isActive: true,
        activatedAt: user.activatedAt ?? now,
        pendingUntil: null,
      },
  );
}

/** Disables an account and signs it out everywhere. */
export async function deactivateUser(
  kv: Deno.Kv,
  email: string,
  now: number,
): Promise<AdminResult> {
  const res = await updateUserByEmail(
    kv,
    email,
    now,
    (user) => user.isActive ? { ...user, isActive: false } : null,
  );
  const user = res.ok ? res.user : await getUserByEmail(kv, email, now);
  if (!user) return res;
  // Also when already inactive: no session of a disabled account may live.
  const ended = await deleteUserSessions(kv, user.id);
  return res.ok || res.reason === "unchanged"
    ? { ok: true, user, detail: `${ended} session(s) ended` }
    : res;
}

/**
 * Everything about the account, as the person's own deletion does it
 * (lib/account_deletion.ts), goodbye mail included for an activated one.
 */
export async function deleteUser(
  kv: Deno.Kv,
  email: string,
  opts: { now: number; queue: boolean },
): Promise<AdminResult & { outboxId?: string | null }> {
  const user = await getUserByEmail(kv, email, opts.now);
  if (!user) return { ok: false, reason: "not_found" };
  const res = await eraseAccount(kv, user.id, opts);
  if (!res.ok) {
    return {
      ok: false,
      reason: res.reason === "conflict" ? "conflict" : "not_found",
    };
  }
  return {
    ok: true,
    user,
    outboxId: res.outboxId,
    detail: `${res.records} record(s) in ${res.commits} commit(s)${
      res.outboxId ? ", goodbye mail queued" : ""
    }`,
  };
}

export async function* listOutbox(kv: Deno.Kv): AsyncIterable<OutboxEntry> {
  for await (const e of kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
    yield e.value;
  }
}

export async function* listDeadLetters(
  kv: Deno.Kv,
): AsyncIterable<DeadLetter> {
  for await (const e of kv.list<DeadLetter>({ prefix: keys.deadLetters() })) {
    yield e.value;
  }
}

/**
 * Makes outbox entries due now, all of them or the one `id`: a dead letter
 * goes back to the outbox with a fresh count of attempts (MAIL_MAX_AGE counts
 * from now), a waiting entry skips the rest of its wait. An entry leased by a
 * deliverer is left to it. Returns the ids to try.
 */
export async function reviveOutbox(
  kv: Deno.Kv,
  now: number,
  id?: string,
): Promise<string[]> {
  const due: string[] = [];
  for await (const e of kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
    if (id !== undefined && e.value.id !== id) continue;
    if (e.value.leaseUntil > now) continue;
    const res = await kv.atomic().check(e)
      .set(e.key, { ...e.value, nextAttemptAt: now } satisfies OutboxEntry)
      .commit();
    if (res.ok) due.push(e.value.id);
  }
  for await (const e of kv.list<DeadLetter>({ prefix: keys.deadLetters() })) {
    if (id !== undefined && e.value.id !== id) continue;
    const { deadAt: _, expiresAt: _expires, ...entry } = e.value;
    const res = await kv.atomic().check(e)
      .check({ key: keys.outboxEntry(entry.id), versionstamp: null })
      .delete(e.key)
      .set(
        keys.outboxEntry(entry.id),
        {
          ...entry,
          attempts: 0,
          leaseUntil: 0,
          nextAttemptAt: now,
          revivedAt: now,
        } satisfies OutboxEntry,
      )
      // Back in the outbox: /healthz's backlog counts it again.
      .sum(keys.outboxAdded(), 1n)
      .commit();
    if (res.ok) due.push(entry.id);
  }
  return due;
}

export async function countUserSessions(
  kv: Deno.Kv,
  userId: string,
): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.userSessions(userId) })) n++;
  return n;
}
