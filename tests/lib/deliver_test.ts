// Signal delivery: claims, retries, the sweep, and the real SMTP path.
import assert from "node:assert/strict";
import { LEASE_MS, SWEEP_MIN_AGE_MS } from "../../lib/outbox/deliver.ts";
import type { OutboxEntry } from "../../lib/outbox/signals.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import {
  countPrefix,
  GOOD_PASSWORD,
  linkPath,
  startTestApp,
  type TestApp,
} from "../helpers.ts";
import { startSmtpServer } from "../smtp_server.ts";
import { keys } from "../../lib/kv/keys.ts";

async function outbox(app: TestApp): Promise<OutboxEntry[]> {
  const out: OutboxEntry[] = [];
  for await (const e of app.kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
    out.push(e.value);
  }
  return out;
}

/**
 * A registration committed with no queue message, as the register route does
 * on Deno Deploy, but without the route's immediate delivery: nothing is
 * sent until the test runs a deliverer.
 */
async function seedRegistration(
  app: TestApp,
  email = "ada@example.com",
  firstName = "Ada",
) {
  const res = await createPendingUser(app.kv, {
    firstName,
    email,
    passwordHash: await app.deps.passwords.hash(GOOD_PASSWORD),
    lang: "en",
  }, { now: app.clock.now(), pendingTtlMs: 3_600_000, queue: false });
  assert.ok(res.ok);
  return res;
}

Deno.test("deliver: the same outbox entry delivered twice at once sends one mail", async () => {
  await using app = await startTestApp();
  await seedRegistration(app);
  const [entry] = await outbox(app);
  // What a queue redelivery racing the sweep looks like.
  const outcomes = await Promise.all([
    app.deps.deliverer.deliver(entry.id),
    app.deps.deliverer.deliver(entry.id),
    app.deps.deliverer.deliver(entry.id),
  ]);
  assert.equal(outcomes.filter((o) => o === "sent").length, 1);
  assert.equal(app.mailer.sent.length, 1);
  assert.equal(await app.deps.deliverer.deliver(entry.id), "gone");
  assert.equal(app.mailer.sent.length, 1);
  assert.equal(await countPrefix(app.kv, keys.outbox()), 0);
});

Deno.test("deliver: a failed send keeps the entry with its error, and a retry sends once", async () => {
  await using app = await startTestApp();
  await seedRegistration(app);
  const [entry] = await outbox(app);
  app.mailer.failNext(1, new Error("connection refused"));

  assert.equal(await app.deps.deliverer.deliver(entry.id), "failed");
  const [failed] = await outbox(app);
  assert.equal(failed.attempts, 1);
  assert.equal(failed.lastError, "connection refused");
  assert.equal(failed.leaseUntil, 0, "the lease is released for a retry");
  assert.ok(failed.nextAttemptAt > app.clock.now());
  assert.equal(app.mailer.sent.length, 0);

  // Before its retry time, no deliverer touches it.
  assert.equal(await app.deps.deliverer.deliver(entry.id), "not_due");
  assert.deepEqual(await outbox(app), [failed]);
  app.clock.time = failed.nextAttemptAt;
  assert.equal(await app.deps.deliverer.deliver(entry.id), "sent");
  assert.equal(app.mailer.sent.length, 1);
  assert.equal(await countPrefix(app.kv, keys.outbox()), 0);
});

Deno.test("deliver: a queue redelivery that arrives before the retry time leaves the entry alone", async () => {
  await using app = await startTestApp();
  await seedRegistration(app);
  const [entry] = await outbox(app);
  app.mailer.failNext(1, new Error("421 try again later"));
  // Answered once claimed: the failure is the entry's, not the message's.
  await app.deps.deliverer.onQueueMessage({ outboxId: entry.id });
  await app.idle();
  const failed = await app.kv.get<OutboxEntry>(keys.outboxEntry(entry.id));
  assert.equal(failed.value!.attempts, 1);
  // The queue's own backoff (1 s, 5 s, …) is shorter than the entry's: the
  // redelivery is acknowledged and changes nothing, not even the versionstamp.
  app.clock.advance(1_000);
  await app.deps.deliverer.onQueueMessage({ outboxId: entry.id });
  const after = await app.kv.get<OutboxEntry>(keys.outboxEntry(entry.id));
  assert.equal(after.versionstamp, failed.versionstamp);
  assert.equal(app.mailer.sent.length, 0);
  app.clock.time = failed.value!.nextAttemptAt;
  await app.deps.deliverer.onQueueMessage({ outboxId: entry.id });
  await app.idle();
  assert.equal(app.mailer.sent.length, 1);
  assert.equal(await countPrefix(app.kv, keys.outbox()), 0);
});

Deno.test("deliver: a send from the queue that fails is retried by the sweep once due, and sent once", async () => {
  await using app = await startTestApp();
  app.mailer.failNext(1, new Error("temporary failure"));
  await app.browser().register();
  let failed: OutboxEntry | undefined;
  for (let i = 0; i < 200 && !failed?.lastError; i++) {
    [failed] = await outbox(app);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(failed?.lastError);
  assert.equal(failed.leaseUntil, 0);
  // The queue message was answered at the claim; the entry waits for its
  // retry time, and the sweep (every minute) sends it then.
  assert.deepEqual(await app.deps.deliverer.sweep(), {
    sent: 0,
    failed: 0,
    skipped: 1,
  });
  app.clock.time = Math.max(
    failed.nextAttemptAt,
    failed.createdAt + SWEEP_MIN_AGE_MS,
  );
  assert.deepEqual(await app.deps.deliverer.sweep(), {
    sent: 1,
    failed: 0,
    skipped: 0,
  });
  await app.idle();
  assert.deepEqual(app.mailer.sent.map((m) => m.to), ["ada@example.com"]);
  assert.equal(await countPrefix(app.kv, keys.outbox()), 0);
});

Deno.test("deliver: an entry someone holds a lease on is left alone", async () => {
  await using app = await startTestApp();
  await seedRegistration(app);
  const [entry] = await outbox(app);
  const held = { ...entry, leaseUntil: app.clock.now() + LEASE_MS };
  await app.kv.set(keys.outboxEntry(entry.id), held);
  assert.equal(await app.deps.deliverer.deliver(entry.id), "busy");
  assert.equal(app.mailer.sent.length, 0);
  // A deliverer that crashed holding the lease: it expires, then anyone may.
  app.clock.advance(LEASE_MS + 1);
  assert.equal(await app.deps.deliverer.deliver(entry.id), "sent");
  assert.equal(app.mailer.sent.length, 1);
});

Deno.test("deliver: the sweep leaves young entries to the queue and delivers old ones", async () => {
  await using app = await startTestApp();
  await seedRegistration(app);
  let report = await app.deps.deliverer.sweep();
  assert.deepEqual(report, { sent: 0, failed: 0, skipped: 1 });
  app.clock.advance(SWEEP_MIN_AGE_MS);
  report = await app.deps.deliverer.sweep();
  assert.deepEqual(report, { sent: 1, failed: 0, skipped: 0 });
  assert.equal(app.mailer.sent.length, 1);
});

Deno.test("deliver: the sweep waits out a failed entry's backoff", async () => {
  await using app = await startTestApp();
  await seedRegistration(app);
  app.mailer.failNext(1);
  assert.deepEqual(await app.deps.deliverer.sweep({ minAgeMs: 0 }), {
    sent: 0,
    failed: 1,
    skipped: 0,
  });
  assert.deepEqual(await app.deps.deliverer.sweep({ minAgeMs: 0 }), {
    sent: 0,
    failed: 0,
    skipped: 1,
  });
  const [entry] = await outbox(app);
  app.clock.time = entry.nextAttemptAt;
  assert.deepEqual(await app.deps.deliverer.sweep({ minAgeMs: 0 }), {
    sent: 1,
    failed: 0,
    skipped: 0,
  });
});

Deno.test("deliver: a user activated before the mail went out gets no mail", async () => {
  await using app = await startTestApp();
  await seedRegistration(app);
  const [entry] = await outbox(app);
  const id = (await app.kv.get<string>(keys.userByEmail("ada@example.com")))
    .value!;
  const user = (await app.kv.get<Record<string, unknown>>(keys.user(id)))
    .value!;
  await app.kv.set(keys.user(id), { ...user, isActivated: true });
  assert.equal(await app.deps.deliverer.deliver(entry.id), "sent");
  assert.equal(app.mailer.sent.length, 0);
  assert.equal(await countPrefix(app.kv, keys.outbox()), 0);
});

Deno.test("deliver: the smtp backend delivers the activation mail to a real server", async () => {
  await using smtp = await startSmtpServer();
  await using app = await startTestApp({
    env: {
      MAIL_BACKEND: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: "cloud-user <no-reply@cloud-user.test>",
      APP_NAME: "Cloud User",
    },
  });
  const browser = app.browser();
  await browser.register({ first_name: "Zoé", email: "zoe@example.com" });
  const [mail] = await smtp.waitFor(1);
  assert.deepEqual(mail.rcptTo, ["zoe@example.com"]);
  assert.equal(mail.mailFrom, "no-reply@cloud-user.test");
  assert.equal(mail.subject, "Activate your Cloud User account");
  assert.match(mail.text, /Hello Zoé,/);
  assert.match(mail.html, /Hello Zoé,/);
  const path = linkPath(mail.text, "/activate/");
  assert.equal(linkPath(mail.html, "/activate/"), path);
  // The link from the real mail works.
  const res = await browser.post(path);
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
});

Deno.test("deliver: a name with markup is escaped in the HTML mail and kept as text", async () => {
  await using app = await startTestApp();
  // The form refuses such a name now; a record written before that rule
  // (or by another tool) may still hold one.
  const name = `<script>alert(1)</script>`;
  const seeded = await seedRegistration(app, "ada@example.com", name);
  await app.deps.deliverer.deliver(seeded.outboxId!);
  const [mail] = await app.mailer.waitFor(1);
  assert.ok(!mail.html.includes(name));
  assert.ok(mail.html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(mail.text.includes(`Hello ${name},`));
});
