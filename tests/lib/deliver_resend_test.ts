// The Deno Deploy path end to end: no KV queue (SIGNAL_QUEUE=none), mail over
// Resend's HTTPS API (a local stand-in), the registration delivering at once
// and the outbox sweep retrying what failed, with one idempotency key for
// every attempt at the same mail.
import assert from "node:assert/strict";
import { createLogger } from "../../lib/app/log.ts";
import { keys } from "../../lib/kv/keys.ts";
import { startApp } from "../../lib/app/server.ts";
import { type OutboxEntry, signalOwner } from "../../lib/outbox/signals.ts";
import { type User } from "../../lib/accounts/users.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { linkPath, TestBrowser, TestClock, testConfig } from "../helpers.ts";
import {
  RATE_LIMITED,
  type ResendServerOptions,
  SERVER_ERROR,
  startResendServer,
} from "../resend_server.ts";

const KEY = "re_deploy_test_key";

async function startDeployLikeApp(
  apiKey = KEY,
  { env = {}, server = {} }: {
    env?: Record<string, string>;
    server?: ResendServerOptions;
  } = {},
) {
  const resend = await startResendServer(KEY, server);
  const config = testConfig({
    MAIL_BACKEND: "resend",
    RESEND_API_KEY: apiKey,
    RESEND_BASE_URL: resend.url,
    SIGNAL_QUEUE: "none",
    ...env,
  });
  const kv = await Deno.openKv(":memory:");
  const clock = new TestClock();
  const logLines: string[] = [];
  const log = createLogger({
    format: "json",
    write: (_level, line) => logLines.push(line),
  });
  const app = await startApp(config, { kv, clock, log });
  return {
    app,
    kv,
    clock,
    resend,
    logLines,
    browser: new TestBrowser(app.url),
    async outbox(): Promise<OutboxEntry[]> {
      const out: OutboxEntry[] = [];
      for await (const e of kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
        out.push(e.value);
      }
      return out;
    },
    /** Pending users with their outbox entries, no queue message, nothing sent. */
    async seed(count: number): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const res = await createPendingUser(kv, {
          firstName: "Ada",
          email: `ada${i}@example.com`,
          passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
          lang: "en",
        }, { now: clock.now(), pendingTtlMs: 86_400_000, queue: false });
        if (!res.ok) throw new Error("seed failed");
        ids.push(res.outboxId);
      }
      return ids;
    },
    async [Symbol.asyncDispose]() {
      await app.shutdown();
      await resend.close();
    },
  };
}

async function waitUntil(what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const deliveryLogs = (lines: string[]) =>
  lines.map((l) => JSON.parse(l)).filter((l) => l.msg.startsWith("signal "));

Deno.test("deploy path: without a queue, sign-up mails at once through Resend and the link signs in", async () => {
  await using t = await startDeployLikeApp();
  const res = await t.browser.register({ email: "ada@example.com" });
  assert.equal(res.status, 303);
  await waitUntil("the mail", async () => (await t.outbox()).length === 0);
  assert.equal(t.resend.sent.length, 1);
  const [mail] = t.resend.sent;
  assert.deepEqual(mail.to, ["ada@example.com"]);
  assert.match(t.resend.requests[0].idempotencyKey!, /^activation\/\S+$/);

  const path = linkPath(mail.text!, "/activate/");
  const activated = await t.browser.post(path);
  assert.equal(activated.status, 303);
  assert.equal(activated.location, "/account");
  const account = await t.browser.get("/account");
  assert.equal(account.status, 200);
  assert.match(account.body, /Ada/);
  assert.deepEqual(
    deliveryLogs(t.logLines).map((l) => [l.msg, l.signal, l.attempt]),
    [["signal delivered", "user_registered", 1]],
  );
});

Deno.test("deploy path: a 429 keeps the entry, and the cron sweep sends it later with the same key", async () => {
  await using t = await startDeployLikeApp();
  t.resend.reply(RATE_LIMITED);
  await t.browser.register();
  await waitUntil(
    "the failed attempt",
    async () => (await t.outbox())[0]?.lastError !== null,
  );
  const [entry] = await t.outbox();
  assert.equal(entry.attempts, 1);
  assert.equal(entry.leaseUntil, 0);
  assert.match(entry.lastError!, /429 rate_limit_exceeded/);
  assert.ok(entry.nextAttemptAt > t.clock.now());
  assert.equal(t.resend.sent.length, 0);

  // The sweep leaves it alone until its retry time, then delivers.
  assert.deepEqual(await t.app.deps.deliverer.sweep({ minAgeMs: 0 }), {
    sent: 0,
    failed: 0,
    skipped: 1,
  });
  t.clock.advance(entry.nextAttemptAt - t.clock.now());
  assert.deepEqual(await t.app.deps.deliverer.sweep({ minAgeMs: 0 }), {
    sent: 1,
    failed: 0,
    skipped: 0,
  });
  assert.equal(t.resend.sent.length, 1);
  assert.deepEqual(await t.outbox(), []);
  const [first, second] = t.resend.requests;
  assert.equal(first.idempotencyKey, second.idempotencyKey);
  const logs = deliveryLogs(t.logLines);
  assert.deepEqual(logs.map((l) => [l.msg, l.attempt]), [
    ["signal delivery failed", 1],
    ["signal delivered", 2],
  ]);
  // Both outcomes carry the same fields, so one query finds every attempt.
  for (const l of logs) {
    for (const field of ["outboxId", "signal", "attempt", "ms"]) {
      assert.ok(field in l, `${l.msg} lacks ${field}`);
    }
  }
  assert.match(logs[0].error, /rate_limit_exceeded/);
  assert.equal(logs[0].retryInSeconds, 60);
});

Deno.test("deploy path: a retry after a lost answer repeats the same request and Resend sends once", async () => {
  await using t = await startDeployLikeApp();
  // Resend sends the mail, but we only see a server error.
  t.resend.reply({ ...SERVER_ERROR, afterSending: true });
  await t.browser.register();
  await waitUntil(
    "the failed attempt",
    async () => (await t.outbox())[0]?.lastError !== null,
  );
  assert.equal(t.resend.sent.length, 1);
  // An hour later the link must still be the one already mailed.
  t.clock.advance(3_600_000);
  const report = await t.app.deps.deliverer.sweep({ minAgeMs: 0 });
  assert.equal(report.sent, 1);
  assert.equal(t.resend.sent.length, 1);
  assert.equal(t.resend.requests.length, 2);
  const [first, second] = t.resend.requests;
  assert.equal(first.idempotencyKey, second.idempotencyKey);
  assert.deepEqual(first.body, second.body);
  assert.deepEqual(await t.outbox(), []);
});

Deno.test("deploy path: a refused API key is logged with Resend's message and retried at the slowest pace", async () => {
  await using t = await startDeployLikeApp("re_revoked");
  await t.browser.register();
  await waitUntil(
    "the failed attempt",
    async () => (await t.outbox())[0]?.lastError !== null,
  );
  const [entry] = await t.outbox();
  assert.match(entry.lastError!, /403 invalid_api_key: API key is invalid/);
  assert.equal(entry.nextAttemptAt - t.clock.now(), 3_600_000);
  const [failed] = deliveryLogs(t.logLines);
  assert.equal(failed.level, "warn");
  assert.match(failed.error, /API key is invalid/);
  assert.equal(t.resend.sent.length, 0);
});

Deno.test("deploy path: Retry-After holds the mail back from every deliverer, and one 429 pauses the others", async () => {
  await using t = await startDeployLikeApp();
  const ids = await t.seed(6);
  const d = t.app.deps.deliverer;
  t.resend.reply({ ...RATE_LIMITED, headers: { "retry-after": "120" } });
  // The first send gets the 429; the instance then holds every other send
  // back for the same two minutes instead of spending attempts on 429s.
  assert.deepEqual(await d.sweep({ minAgeMs: 0 }), {
    sent: 0,
    failed: 1,
    skipped: 5,
  });
  assert.equal(t.resend.requests.length, 1);
  const waiting = await t.outbox();
  for (const e of waiting) {
    assert.ok(e.nextAttemptAt >= t.clock.now() + 120_000, e.id);
    assert.equal(e.leaseUntil, 0);
  }
  assert.deepEqual(waiting.map((e) => e.attempts).sort(), [0, 0, 0, 0, 0, 1]);

  // Past the usual first backoff (60 s) but before Retry-After: the
  // immediate path, queue messages (six at once, so some go as one batch)
  // and the sweep all leave every entry alone.
  t.clock.advance(60_000);
  const before = await t.outbox();
  assert.deepEqual(
    await Promise.all(ids.map((id) => d.deliver(id))),
    ids.map(() => "not_due"),
  );
  await Promise.all(ids.map((outboxId) => d.onQueueMessage({ outboxId })));
  assert.deepEqual(await d.sweep({ minAgeMs: 0 }), {
    sent: 0,
    failed: 0,
    skipped: 6,
  });
  assert.deepEqual(await t.outbox(), before);
  assert.equal(t.resend.requests.length, 1);

  // Once it has passed, the queue path sends them all, once each.
  t.clock.advance(60_000);
  await Promise.all(ids.map((outboxId) => d.onQueueMessage({ outboxId })));
  await t.app.idle();
  assert.equal(t.resend.sent.length, 6);
  assert.equal(new Set(t.resend.sent.map((m) => m.to[0])).size, 6);
  assert.deepEqual(await t.outbox(), []);
});

Deno.test("deploy path: a burst stays under Resend's default rate limit, shared by every deliverer", async () => {
  // Resend's documented default, 5 requests a second per team, enforced by
  // the stand-in; the app keeps under it with its own default.
  await using t = await startDeployLikeApp(KEY, { server: { perSecond: 5 } });
  const ids = await t.seed(12);
  const d = t.app.deps.deliverer;
  await Promise.all([
    ...ids.slice(0, 6).map((id) => d.deliver(id)),
    ...ids.slice(6).map((outboxId) => d.onQueueMessage({ outboxId })),
    d.sweep({ minAgeMs: 0 }),
  ]);
  assert.deepEqual(
    t.resend.requests.filter((r) => r.status !== 200).map((r) => r.status),
    [],
  );
  assert.equal(t.resend.sent.length, 12);
  assert.deepEqual(await t.outbox(), []);
});

Deno.test("deploy path: a retry that renders another mail gets its own key, not Resend's 409", async () => {
  await using t = await startDeployLikeApp();
  // The first attempt went out, but its answer was lost …
  t.resend.reply({ ...SERVER_ERROR, afterSending: true });
  const [id] = await t.seed(1);
  assert.equal(await t.app.deps.deliverer.deliver(id), "failed");
  // … and before the retry the person registered again under another name.
  const userId = signalOwner((await t.outbox())[0].signal)!;
  const user = await t.kv.get<User>(keys.user(userId));
  await t.kv.set(keys.user(userId), { ...user.value!, firstName: "Adele" });
  t.clock.advance(3_600_000);
  assert.equal(await t.app.deps.deliverer.deliver(id), "sent");
  const [first, second] = t.resend.requests;
  assert.notEqual(first.idempotencyKey, second.idempotencyKey);
  assert.equal(second.status, 200);
  assert.match(t.resend.sent[1].text!, /Adele/);
});
