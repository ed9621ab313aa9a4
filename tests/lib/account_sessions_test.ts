// The sessions services on a real in-memory KV: list, end one, end the
// others, touch, each with the audit event it commits.
import assert from "node:assert/strict";
import {
  endOtherSessions,
  endSession,
  listUserSessions,
} from "../../lib/accounts/account_sessions.ts";
import { listAuditEvents } from "../../lib/accounts/audit.ts";
import type { ClientInfo } from "../../lib/accounts/devices.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  createSession,
  LAST_USED_EVERY_MS,
  type Session,
  touchSession,
} from "../../lib/accounts/sessions.ts";

const HOUR = 3_600_000;
const LAPTOP: ClientInfo = {
  browser: "Firefox 128",
  os: "Linux",
  address: "203.0.113.x",
};
const PHONE: ClientInfo = {
  browser: "Safari 17",
  os: "iOS",
  address: "2001:db8:1::/48",
};
const ADA = { id: "ada", credentialEpoch: 0 };
const MALLORY = { id: "mallory", credentialEpoch: 0 };

async function signIn(
  kv: Deno.Kv,
  userId: string,
  now: number,
  client: ClientInfo,
  epoch = 0,
) {
  const created = await createSession(kv, userId, now, HOUR, epoch, client);
  assert.ok(created);
  return created.idHash;
}

async function all(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    out.push(JSON.stringify(e.key));
  }
  return out.sort();
}

Deno.test("sessions service: a sign-in keeps its device and writes a signed_in event in its commit", async () => {
  using kv = await Deno.openKv(":memory:");
  const id = await signIn(kv, "ada", 1000, LAPTOP);
  const session = (await kv.get<Session>(keys.session(id))).value!;
  assert.deepEqual(session.client, LAPTOP);
  assert.equal(session.lastUsedAt, 1000);
  assert.deepEqual(await listAuditEvents(kv, "ada"), [
    { type: "signed_in", at: 1000, client: LAPTOP },
  ]);
});

Deno.test("sessions service: the list holds only the owner's live sessions, this one first, then the latest used", async () => {
  using kv = await Deno.openKv(":memory:");
  const laptop = await signIn(kv, "ada", 1000, LAPTOP);
  const phone = await signIn(kv, "ada", 2000, PHONE);
  const old = await signIn(kv, "ada", 500, PHONE);
  await signIn(kv, "mallory", 1000, LAPTOP);
  // From before a password change: over, so not listed.
  await signIn(kv, "ada", 3000, PHONE, 7);
  // Expired.
  await signIn(kv, "ada", -HOUR, PHONE);
  const list = await listUserSessions(kv, ADA, 4000, laptop);
  assert.deepEqual(list.map((s) => [s.id, s.current]), [
    [laptop, true],
    [phone, false],
    [old, false],
  ]);
  assert.deepEqual(list[1].session.client, PHONE);
});

Deno.test("sessions service: ending one session commits its deletion and a session_ended event", async () => {
  using kv = await Deno.openKv(":memory:");
  const laptop = await signIn(kv, "ada", 1000, LAPTOP);
  const phone = await signIn(kv, "ada", 1000, PHONE);
  const res = await endSession(kv, ADA, phone, { now: 2000, client: LAPTOP });
  assert.deepEqual(res, { ok: true, ended: PHONE });
  assert.equal((await kv.get(keys.session(phone))).value, null);
  assert.equal((await kv.get(keys.userSession("ada", phone))).value, null);
  assert.ok((await kv.get(keys.session(laptop))).value);
  const [latest] = await listAuditEvents(kv, "ada", { limit: 1 });
  assert.deepEqual(latest, {
    type: "session_ended",
    at: 2000,
    client: LAPTOP,
    ended: PHONE,
  });
  // Once more: already ended.
  assert.deepEqual(
    await endSession(kv, ADA, phone, { now: 2000, client: LAPTOP }),
    { ok: false, reason: "not_found" },
  );
});

Deno.test("sessions service: another person's session id is not found, and nothing changes", async () => {
  using kv = await Deno.openKv(":memory:");
  await signIn(kv, "ada", 1000, LAPTOP);
  const mallorys = await signIn(kv, "mallory", 1000, PHONE);
  const before = await all(kv);
  for (const id of [mallorys, "f".repeat(64), "../sessions", ""]) {
    assert.deepEqual(
      await endSession(kv, ADA, id, { now: 2000, client: LAPTOP }),
      { ok: false, reason: "not_found" },
    );
  }
  assert.deepEqual(await all(kv), before);
});

Deno.test("sessions service: ending the others keeps this one and records how many ended", async () => {
  using kv = await Deno.openKv(":memory:");
  const laptop = await signIn(kv, "ada", 1000, LAPTOP);
  for (let i = 0; i < 45; i++) await signIn(kv, "ada", 1000 + i, PHONE);
  const mallorys = await signIn(kv, "mallory", 1000, PHONE);
  const ended = await endOtherSessions(kv, ADA, laptop, {
    now: 5000,
    client: LAPTOP,
  });
  assert.equal(ended, 45);
  const left = await listUserSessions(kv, ADA, 5000, laptop);
  assert.deepEqual(left.map((s) => s.id), [laptop]);
  assert.ok((await kv.get(keys.session(mallorys))).value);
  const events = await listAuditEvents(kv, "ada");
  assert.equal(
    events.filter((e) => e.type === "other_sessions_ended").length,
    1,
  );
  assert.deepEqual(events[0], {
    type: "other_sessions_ended",
    at: 5000,
    client: LAPTOP,
    count: 45,
  });
  // Nothing left to end: no event either.
  assert.equal(
    await endOtherSessions(kv, ADA, laptop, { now: 6000, client: LAPTOP }),
    0,
  );
  assert.equal((await listAuditEvents(kv, "ada")).length, events.length);
});

Deno.test("sessions service: last used is written once per interval, never to an ended session", async () => {
  using kv = await Deno.openKv(":memory:");
  const id = await signIn(kv, "ada", 0, LAPTOP);
  const stamp = async () => (await kv.get(keys.session(id))).versionstamp;
  const first = await stamp();
  assert.equal(await touchSession(kv, id, LAST_USED_EVERY_MS - 1), false);
  assert.equal(await stamp(), first, "no write within the interval");
  assert.equal(await touchSession(kv, id, LAST_USED_EVERY_MS), true);
  const touched = (await kv.get<Session>(keys.session(id))).value!;
  assert.equal(touched.lastUsedAt, LAST_USED_EVERY_MS);
  assert.equal(touched.expiresAt, HOUR, "the session's end does not move");
  await endSession(kv, ADA, id, { now: 1, client: LAPTOP });
  assert.equal(await touchSession(kv, id, 3 * LAST_USED_EVERY_MS), false);
  assert.equal((await kv.get(keys.session(id))).value, null);
});

Deno.test("sessions service: Mallory's owner record cannot end Ada's sessions either", async () => {
  using kv = await Deno.openKv(":memory:");
  const adas = await signIn(kv, "ada", 1000, LAPTOP);
  assert.equal(
    await endOtherSessions(kv, MALLORY, "x", { now: 2000, client: PHONE }),
    0,
  );
  assert.ok((await kv.get(keys.session(adas))).value);
});
