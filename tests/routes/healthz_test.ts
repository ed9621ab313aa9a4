// /healthz: KV reachability, outbox backlog and age, failed deliveries and
// version; 503 only when KV cannot be reached.
import assert from "node:assert/strict";
import { BACKLOG_COUNT_LIMIT, checkHealth } from "../../lib/health.ts";
import { addSignal } from "../../lib/signals.ts";
import { getUserByEmail } from "../../lib/users.ts";
import { GOOD_PASSWORD, startTestApp } from "../helpers.ts";

Deno.test("healthz: a fresh app is ok with an empty outbox and its version", async () => {
  await using app = await startTestApp({ env: { APP_VERSION: "1.2.3-test" } });
  const res = await fetch(`${app.url}/healthz`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(await res.json(), {
    status: "ok",
    version: "1.2.3-test",
    kv: { ok: true },
    outbox: { backlog: 0, capped: false, oldestAgeSeconds: 0 },
    failedDeliveries: 0,
    deadLetters: 0,
    passwords: { backend: "native", queued: 0 },
    log: { dropped: 0 },
  });
});

Deno.test("healthz: PASSWORD_BACKEND=wasm forces the hash-wasm fallback, and it works", async () => {
  await using app = await startTestApp({
    env: { PASSWORD_BACKEND: "wasm" },
    captureLogs: true,
  });
  const body = await (await fetch(`${app.url}/healthz`)).json();
  assert.deepEqual(body.passwords, { backend: "wasm", queued: 0 });
  assert.match(app.logLines.join("\n"), /password hashing backend=wasm/);
  const browser = app.browser();
  const res = await browser.register({ email: "w@example.com" });
  assert.equal(res.status, 303);
  const user = await getUserByEmail(app.kv, "w@example.com", app.clock.now());
  assert.match(user!.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(
    await app.deps.passwords.verify(GOOD_PASSWORD, user!.passwordHash),
    true,
  );
});

Deno.test("healthz: counts waiting and failed mail, and says degraded once the oldest is stuck", async () => {
  await using app = await startTestApp({
    env: { SIGNAL_QUEUE: "none", HEALTH_MAX_OUTBOX_AGE: "15m" },
  });
  app.mailer.failNext(1, new Error("relay down"));
  const browser = app.browser();
  await browser.register({ email: "a@example.com" });
  // The immediate delivery fails and the entry stays for the sweep.
  for (let i = 0; i < 200; i++) {
    const body = await (await fetch(`${app.url}/healthz`)).json();
    if (body.failedDeliveries === 1) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  app.clock.advance(60_000);
  // A second registration, left undelivered by the clock: queued, not failed.
  const second = addSignal(app.kv.atomic(), {
    type: "user_registered",
    userId: "nobody",
  }, { id: "0000-second", now: app.clock.now(), queue: false });
  assert.ok((await second.commit()).ok);

  let res = await fetch(`${app.url}/healthz`);
  assert.equal(res.status, 200);
  let body = await res.json();
  assert.equal(body.status, "ok");
  assert.deepEqual(body.outbox, {
    backlog: 2,
    capped: false,
    oldestAgeSeconds: 60,
  });
  assert.equal(body.failedDeliveries, 1);

  app.clock.advance(15 * 60_000);
  res = await fetch(`${app.url}/healthz`);
  assert.equal(res.status, 200);
  body = await res.json();
  assert.equal(body.status, "degraded");
  assert.equal(body.outbox.oldestAgeSeconds, 16 * 60);
});

Deno.test("healthz: 503 when KV cannot be reached", async () => {
  await using app = await startTestApp();
  app.kv.close();
  const res = await fetch(`${app.url}/healthz`);
  assert.equal(res.status, 503);
  const body = await res.json();
  assert.equal(body.status, "unavailable");
  assert.equal(body.kv.ok, false);
  assert.equal(typeof body.kv.error, "string");
  assert.deepEqual(body.outbox, {
    backlog: null,
    capped: false,
    oldestAgeSeconds: null,
  });
  assert.equal(body.failedDeliveries, null);
  assert.equal(body.deadLetters, null);
});

Deno.test("checkHealth: counting stops at the limit and says so", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = Date.now();
    for (let i = 0; i < BACKLOG_COUNT_LIMIT; i += 100) {
      const atomic = kv.atomic();
      for (let j = i; j < i + 100; j++) {
        addSignal(atomic, { type: "user_registered", userId: `u${j}` }, {
          id: String(j).padStart(6, "0"),
          now: now - j,
          queue: false,
        });
      }
      assert.ok((await atomic.commit()).ok);
    }
    const report = await checkHealth(kv, {
      now,
      version: "x",
      maxOutboxAgeMs: 60_000,
      passwords: { backend: "native", queued: 0 },
      log: { dropped: 0 },
    });
    assert.equal(report.outbox.backlog, BACKLOG_COUNT_LIMIT);
    assert.equal(report.outbox.capped, true);
    assert.equal(report.status, "ok");
  } finally {
    kv.close();
  }
});
