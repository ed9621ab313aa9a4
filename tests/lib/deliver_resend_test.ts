// The Deno Deploy path end to end: no KV queue (SIGNAL_QUEUE=none), mail over
// Resend's HTTPS API (a local stand-in), the registration delivering at once
// and the outbox sweep retrying what failed, with one idempotency key for
// every attempt at the same mail.
import assert from "node:assert/strict";
import { createLogger } from "../../lib/log.ts";
import { keys } from "../../lib/kv_keys.ts";
import { startApp } from "../../lib/server.ts";
import type { OutboxEntry } from "../../lib/signals.ts";
import { linkPath, TestBrowser, TestClock, testConfig } from "../helpers.ts";
import {
  RATE_LIMITED,
  SERVER_ERROR,
  startResendServer,
} from "../resend_server.ts";

const KEY = "re_deploy_test_key";

async function startDeployLikeApp(apiKey = KEY) {
  const resend = await startResendServer(KEY);
  const config = testConfig({
    MAIL_BACKEND: "resend",
    RESEND_API_KEY: apiKey,
    RESEND_BASE_URL: resend.url,
    SIGNAL_QUEUE: "none",
  });
  const kv = await Deno.openKv(":memory:");
  const clock = new TestClock();
  const logLines: string[] = [];
  const log = createLogger({
    format: "json",
    write: (_level, line) => logLines.push(line),
  });
  const app = await startApp(config, { kv, clock, log, sweep: false });
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
