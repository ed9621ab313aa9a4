// Dead letters: after MAIL_MAX_ATTEMPTS or MAIL_MAX_AGE (or an error no retry
// can fix) an entry stops retrying and is kept, with its last error, until an
// operator revives it; /healthz counts it without staying degraded.
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import type { DeadLetter, OutboxEntry } from "../../lib/outbox/signals.ts";
import { reviveOutbox } from "../../lib/accounts/user_admin.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { checkStore } from "../faults/store_check.ts";
import { countPrefix, startTestApp, type TestApp } from "../helpers.ts";
import { startResendServer } from "../resend_server.ts";

async function seed(app: TestApp): Promise<string> {
  const res = await createPendingUser(app.kv, {
    firstName: "Ada",
    email: "ada@example.com",
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
    lang: "en",
  }, { now: app.clock.now(), pendingTtlMs: 7 * 86_400_000, queue: false });
  assert.ok(res.ok);
  return res.outboxId;
}

const entry = async (app: TestApp, id: string) =>
  (await app.kv.get<OutboxEntry>(keys.outboxEntry(id))).value;
const deadLetter = async (app: TestApp, id: string) =>
  (await app.kv.get<DeadLetter>(keys.deadLetter(id))).value;

/** Runs the sweep at each retry time until the entry leaves the outbox. */
async function sweepUntilGone(app: TestApp, id: string): Promise<number> {
  let runs = 0;
  for (let e = await entry(app, id); e; e = await entry(app, id), runs++) {
    app.clock.time = Math.max(app.clock.now(), e.nextAttemptAt);
    await app.deps.deliverer.sweep({ minAgeMs: 0 });
  }
  return runs;
}

async function health(app: TestApp) {
  const res = await fetch(`${app.url}/healthz`);
  assert.equal(res.status, 200);
  return await res.json();
}

Deno.test("dead letter: after MAIL_MAX_ATTEMPTS failures the mail stops retrying and keeps its last error", async () => {
  await using app = await startTestApp({
    env: { MAIL_MAX_ATTEMPTS: "3", HEALTH_MAX_OUTBOX_AGE: "15m" },
    captureLogs: true,
    logFormat: "json",
  });
  const id = await seed(app);
  app.mailer.failNext(5, new Error("550 relay refused"));
  assert.equal(await sweepUntilGone(app, id), 3);
  assert.equal(await entry(app, id), null);
  const dead = await deadLetter(app, id);
  assert.ok(dead);
  assert.equal(dead.attempts, 3);
  assert.equal(dead.lastError, "550 relay refused");
  assert.equal(dead.deadAt, app.clock.now());
  assert.equal(dead.leaseUntil, 0);
  const lines = app.logLines.map((l) => JSON.parse(l))
    .filter((l) => l.msg === "signal delivery failed");
  assert.deepEqual(lines.map((l) => [l.level, l.attempt, l.gaveUp]), [
    ["warn", 1, undefined],
    ["warn", 2, undefined],
    ["error", 3, "max_attempts"],
  ]);

  // Nothing retries it any more, however long we wait.
  app.clock.advance(7 * 86_400_000);
  assert.deepEqual(await app.deps.deliverer.sweep({ minAgeMs: 0 }), {
    sent: 0,
    failed: 0,
    skipped: 0,
  });
  assert.equal(await app.deps.deliverer.deliver(id), "gone");
  assert.equal(app.mailer.sent.length, 0);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);

  // /healthz counts it, and is not degraded by it for ever.
  const body = await health(app);
  assert.equal(body.status, "ok");
  assert.equal(body.deadLetters, 1);
  assert.deepEqual(body.outbox, { backlog: 0, oldestAgeSeconds: 0 });
});

Deno.test("dead letter: no attempt starts later than MAIL_MAX_AGE after the mail was queued", async () => {
  await using app = await startTestApp({ env: { MAIL_MAX_AGE: "10m" } });
  const id = await seed(app);
  const queuedAt = app.clock.now();
  app.mailer.failNext(10, new Error("relay down"));
  // Backoff 1, 2, 4 min: attempts at 0, 1, 3 and 7 min; the next would come
  // at 15 min, past the 10 minutes allowed.
  assert.equal(await sweepUntilGone(app, id), 4);
  const dead = await deadLetter(app, id);
  assert.equal(dead?.attempts, 4);
  assert.equal(dead?.deadAt, queuedAt + 7 * 60_000);
});

Deno.test("dead letter: the queue acknowledges a mail that has just failed for good", async () => {
  await using app = await startTestApp({ env: { MAIL_MAX_ATTEMPTS: "1" } });
  const id = await seed(app);
  app.mailer.failNext(1, new Error("relay down"));
  // No throw: a redelivery could not change anything.
  await app.deps.deliverer.onQueueMessage({ outboxId: id });
  await app.idle(); // the message is answered at the claim, before the send
  assert.equal((await deadLetter(app, id))?.attempts, 1);
  assert.equal(await countPrefix(app.kv, keys.outbox()), 0);
});

Deno.test("dead letter: Resend's 409 invalid_idempotent_request stops at once, as its docs say a retry is useless", async () => {
  const resend = await startResendServer("re_key");
  await using app = await startTestApp({
    env: {
      MAIL_BACKEND: "resend",
      RESEND_API_KEY: "re_key",
      RESEND_BASE_URL: resend.url,
    },
  });
  try {
    const id = await seed(app);
    resend.reply({
      status: 409,
      name: "invalid_idempotent_request",
      message: "Same idempotency key used with a different request payload.",
    });
    assert.equal(await app.deps.deliverer.deliver(id), "dead");
    const dead = await deadLetter(app, id);
    assert.equal(dead?.attempts, 1);
    assert.match(dead?.lastError ?? "", /409 invalid_idempotent_request/);
    assert.equal(resend.requests.length, 1);
  } finally {
    await resend.close();
  }
});

Deno.test("dead letter: reviving starts its attempts and MAIL_MAX_AGE afresh", async () => {
  await using app = await startTestApp({
    env: { MAIL_MAX_ATTEMPTS: "2", MAIL_MAX_AGE: "1h" },
  });
  const id = await seed(app);
  app.mailer.failNext(2, new Error("relay down"));
  await sweepUntilGone(app, id);
  assert.ok(await deadLetter(app, id));
  // Days later, the relay is fixed, but first one more failure.
  app.clock.advance(3 * 86_400_000);
  assert.deepEqual(await reviveOutbox(app.kv, app.clock.now()), [id]);
  assert.equal(await deadLetter(app, id), null);
  const revived = await entry(app, id);
  assert.equal(revived?.attempts, 0);
  assert.equal(revived?.revivedAt, app.clock.now());
  assert.equal(revived?.lastError, "relay down");
  app.mailer.failNext(1, new Error("relay still down"));
  assert.equal(await app.deps.deliverer.deliver(id), "failed");
  const next = await entry(app, id);
  assert.ok(next, "still retrying: its age counts from the revival");
  app.clock.time = next.nextAttemptAt;
  assert.equal(await app.deps.deliverer.deliver(id), "sent");
  assert.equal(app.mailer.sent.length, 1);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
});
