import assert from "node:assert/strict";
import {
  getUserByEmail,
  getUserEntry,
  type User,
} from "../../lib/accounts/users.ts";
import {
  activateUser,
  createPendingUser,
  type NewUserInput,
} from "../../lib/accounts/user_writes.ts";
import { keys } from "../../lib/kv/keys.ts";

const INPUT: NewUserInput = {
  firstName: "Ada",
  email: "ada@example.com",
  passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
  lang: "en",
};
const HOUR = 3_600_000;

function register(kv: Deno.Kv, now = 0, input: Partial<NewUserInput> = {}) {
  return createPendingUser(kv, { ...INPUT, ...input }, {
    now,
    pendingTtlMs: HOUR,
    queue: false,
  });
}

async function tables(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) out.push(String(e.key[0]));
  return out.sort();
}

Deno.test("users: a registration writes user, index and signal in one commit", async () => {
  using kv = await Deno.openKv(":memory:");
  const res = await register(kv);
  assert.ok(res.ok);
  // "counters": the outbox's "added" count, for /healthz.
  assert.deepEqual(await tables(kv), [
    "counters",
    "outbox",
    "users",
    "users_by_email",
  ]);
  const found = await getUserByEmail(kv, "ada@example.com", 1);
  assert.equal(found?.id, res.user.id);
});

Deno.test("users: a live registration keeps its email", async () => {
  using kv = await Deno.openKv(":memory:");
  assert.ok((await register(kv)).ok);
  const again = await register(kv, HOUR - 1, { firstName: "Eve" });
  assert.deepEqual(again, { ok: false, reason: "email_taken" });
});

Deno.test("users: an expired pending registration is replaced without orphans", async () => {
  using kv = await Deno.openKv(":memory:");
  const first = await register(kv);
  assert.ok(first.ok);
  // KV deletes expired keys lazily; our own clock says the first one is over.
  const second = await register(kv, HOUR + 1, { firstName: "Eve" });
  assert.ok(second.ok);
  assert.equal((await kv.get(keys.user(first.user.id))).value, null);
  const index = await kv.get<string>(keys.userByEmail(INPUT.email));
  assert.equal(index.value, second.user.id);
  let users = 0;
  for await (const _ of kv.list({ prefix: keys.users() })) users++;
  assert.equal(users, 1);
  // The first user's link now points at nobody.
  const activated = await activateUser(kv, first.user.id, {
    now: HOUR + 2,
    sessionTtlMs: HOUR,
    proof: { registrant: first.user.id },
  });
  assert.deepEqual(activated, { ok: false, reason: "not_found" });
});

Deno.test("users: concurrent registrations of one email store exactly one user", async () => {
  using kv = await Deno.openKv(":memory:");
  const results = await Promise.all(
    Array.from(
      { length: 30 },
      (_, i) =>
        createPendingUser(kv, { ...INPUT, firstName: `Ada ${i}` }, {
          now: 0,
          pendingTtlMs: HOUR,
          queue: false,
        }),
    ),
  );
  assert.equal(results.filter((r) => r.ok).length, 1);
  assert.ok(
    results.every((r) => r.ok || r.reason === "email_taken"),
    "losers learn the email is taken",
  );
  let users = 0, outbox = 0;
  for await (const _ of kv.list({ prefix: keys.users() })) users++;
  for await (const _ of kv.list({ prefix: keys.outbox() })) outbox++;
  assert.equal(users, 1);
  assert.equal(outbox, 1);
});

Deno.test("users: activation clears the pending deadline and signs in once", async () => {
  using kv = await Deno.openKv(":memory:");
  const created = await register(kv);
  assert.ok(created.ok);
  const res = await activateUser(kv, created.user.id, {
    now: 10,
    sessionTtlMs: HOUR,
    tokenVersion: 0,
    proof: { registrant: created.user.id },
  });
  assert.ok(res.ok);
  assert.equal(res.user.pendingUntil, null);
  assert.equal(res.user.activatedAt, 10);
  // Long after the pending TTL the active user is still there.
  assert.equal(
    (await getUserByEmail(kv, INPUT.email, 100 * HOUR))?.isActivated,
    true,
  );
  const again = await activateUser(kv, created.user.id, {
    now: 20,
    sessionTtlMs: HOUR,
    proof: { registrant: created.user.id },
  });
  assert.deepEqual(again, { ok: false, reason: "already_active" });
});

Deno.test("users: a link with an old token version does not activate", async () => {
  using kv = await Deno.openKv(":memory:");
  const created = await register(kv);
  assert.ok(created.ok);
  const res = await activateUser(kv, created.user.id, {
    now: 1,
    sessionTtlMs: HOUR,
    tokenVersion: 7,
    proof: { registrant: created.user.id },
  });
  assert.deepEqual(res, { ok: false, reason: "not_found" });
});

Deno.test("users: activation on the caller's read commits what is stored, not what was read", async () => {
  using kv = await Deno.openKv(":memory:");
  const created = await register(kv);
  assert.ok(created.ok);
  const read = await getUserEntry(kv, created.user.id);
  // Changed after the caller read it: the read's commit must lose its check.
  const renamed: User = { ...read.value!, firstName: "Ada Lovelace" };
  await kv.set(keys.user(created.user.id), renamed);
  const res = await activateUser(kv, created.user.id, {
    now: 10,
    sessionTtlMs: HOUR,
    proof: { registrant: created.user.id },
    read,
  });
  assert.ok(res.ok);
  const stored = (await kv.get<User>(keys.user(created.user.id))).value!;
  assert.equal(stored.firstName, "Ada Lovelace");
  assert.equal(stored.isActivated, true);
});

Deno.test("users: a read taken before someone else activated gets already_active and no session", async () => {
  using kv = await Deno.openKv(":memory:");
  const created = await register(kv);
  assert.ok(created.ok);
  const read = await getUserEntry(kv, created.user.id);
  const opts = {
    now: 10,
    sessionTtlMs: HOUR,
    proof: { registrant: created.user.id },
  };
  assert.ok((await activateUser(kv, created.user.id, opts)).ok);
  const late = await activateUser(kv, created.user.id, { ...opts, read });
  assert.deepEqual(late, { ok: false, reason: "already_active" });
  let sessions = 0;
  for await (const _ of kv.list({ prefix: ["sessions"] })) sessions++;
  assert.equal(sessions, 1);
});

Deno.test("users: activation refuses another user's entry as its read", async () => {
  using kv = await Deno.openKv(":memory:");
  const ada = await register(kv);
  const eve = await register(kv, 0, { email: "eve@example.com" });
  assert.ok(ada.ok && eve.ok);
  const read = await getUserEntry(kv, eve.user.id);
  await assert.rejects(
    () =>
      activateUser(kv, ada.user.id, {
        now: 10,
        sessionTtlMs: HOUR,
        proof: { registrant: ada.user.id },
        read,
      }),
    /not this user's/,
  );
  assert.equal(
    (await kv.get<User>(keys.user(eve.user.id))).value!.isActivated,
    false,
  );
});
