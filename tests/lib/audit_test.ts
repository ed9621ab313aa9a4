import assert from "node:assert/strict";
import {
  addAuditEvent,
  AUDIT_TTL_MS,
  listAuditEvents,
  recordAudit,
} from "../../lib/accounts/audit.ts";
import { UNKNOWN_CLIENT } from "../../lib/accounts/devices.ts";
import { expiryTimes } from "../../lib/kv/expiry.ts";
import { recordProblem } from "../../lib/app/records.ts";

Deno.test("audit: events list newest first, limited on request, per user", async () => {
  using kv = await Deno.openKv(":memory:");
  for (let i = 0; i < 12; i++) {
    await recordAudit(kv, "ada", {
      type: "signed_in",
      client: UNKNOWN_CLIENT,
    }, i);
  }
  await recordAudit(kv, "bob", {
    type: "password_changed",
    client: UNKNOWN_CLIENT,
  }, 99);
  const recent = await listAuditEvents(kv, "ada", { limit: 10 });
  assert.deepEqual(recent.map((e) => e.at), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
  assert.equal((await listAuditEvents(kv, "ada")).length, 12);
  assert.deepEqual((await listAuditEvents(kv, "bob")).map((e) => e.type), [
    "password_changed",
  ]);
});

Deno.test("audit: an event added to a commit that fails is not written", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(["guard"], 1);
  const atomic = kv.atomic().check({ key: ["guard"], versionstamp: null });
  addAuditEvent(atomic, "ada", {
    type: "email_changed",
    client: UNKNOWN_CLIENT,
  }, 5);
  assert.equal((await atomic.commit()).ok, false);
  assert.deepEqual(await listAuditEvents(kv, "ada"), []);
});

Deno.test("audit: events have a record schema and come back from a restore with 90 days from their time", async () => {
  using kv = await Deno.openKv(":memory:");
  await recordAudit(kv, "ada", {
    type: "other_sessions_ended",
    client: { browser: "Firefox 128", os: "Linux", address: "203.0.113.x" },
    count: 3,
  }, 1000);
  const entries = [];
  for await (const e of kv.list({ prefix: [] })) entries.push(e);
  assert.equal(entries.length, 1);
  assert.equal(recordProblem(entries[0].key, entries[0].value), null);
  assert.match(
    String(recordProblem(entries[0].key, { type: "made_up", at: 1 })),
    /fails its schema/,
  );
  assert.deepEqual(expiryTimes(entries, { rateWindowMs: 1 }), [
    1000 + AUDIT_TTL_MS,
  ]);
  assert.equal(AUDIT_TTL_MS, 90 * 86_400_000);
});
