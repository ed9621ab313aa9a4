// /healthz: KV reachability, outbox backlog and age, failed deliveries and
// version; 503 only when KV cannot be reached. Figures from counters, cached
// for a few seconds, and only for this machine or a HEALTH_TOKEN holder.
import assert from "node:assert/strict";
import { checkHealth } from "../../lib/web/health.ts";
import { addSignal } from "../../lib/outbox/signals.ts";
import { HEALTH_CACHE_MS } from "../../routes/healthz.ts";
import { getUserByEmail } from "../../lib/accounts/users.ts";
import { GOOD_PASSWORD, startTestApp, waitUntil } from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

const TOKEN = "health-token-0123456789abcdef";

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
    outbox: { backlog: 0, oldestAgeSeconds: 0 },
    failedDeliveries: 0,
    deadLetters: 0,
    mail: { budgetRefused: 0 },
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
  await waitUntil(async () => {
    const failed = await app.kv.get(keys.deliveryFailures());
    return failed.value !== null;
  });
  app.clock.advance(60_000);
  // A second registration, left undelivered by the clock: queued, not failed.
  const second = addSignal(app.kv.atomic(), {
    type: "user_registered",
    userId: "nobody",
  }, { id: "ffff-second", now: app.clock.now(), queue: false });
  assert.ok((await second.commit()).ok);

  let res = await fetch(`${app.url}/healthz`);
  assert.equal(res.status, 200);
  let body = await res.json();
  assert.equal(body.status, "ok");
  assert.deepEqual(body.outbox, { backlog: 2, oldestAgeSeconds: 60 });
  assert.equal(body.failedDeliveries, 1);

  app.clock.advance(15 * 60_000);
  res = await fetch(`${app.url}/healthz`);
  assert.equal(res.status, 200);
  body = await res.json();
  assert.equal(body.status, "degraded");
  assert.equal(body.outbox.oldestAgeSeconds, 16 * 60);

  // Delivered, the backlog goes back to zero.
  await app.deps.deliverer.sweep({ minAgeMs: 0 });
  app.clock.advance(HEALTH_CACHE_MS);
  body = await (await fetch(`${app.url}/healthz`)).json();
  assert.deepEqual(body.outbox, { backlog: 0, oldestAgeSeconds: 0 });
  assert.equal(body.status, "ok");
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
  assert.deepEqual(body.outbox, { backlog: null, oldestAgeSeconds: null });
  assert.equal(body.failedDeliveries, null);
  assert.equal(body.deadLetters, null);
});

Deno.test("healthz: through a proxy or from afar only {status}; the figures with HEALTH_TOKEN", async () => {
  await using app = await startTestApp({ env: { HEALTH_TOKEN: TOKEN } });
  const get = async (headers: Record<string, string>) => {
    const res = await fetch(`${app.url}/healthz`, { headers });
    return { status: res.status, body: await res.json() };
  };
  const refused: Record<string, string>[] = [
    { "x-forwarded-for": "203.0.113.9" },
    { forwarded: "for=203.0.113.9" },
    { "x-real-ip": "203.0.113.9" },
    { "x-forwarded-for": "203.0.113.9", authorization: "Bearer wrong" },
    {
      "x-forwarded-for": "203.0.113.9",
      authorization: `Bearer ${TOKEN}x`,
    },
  ];
  for (const headers of refused) {
    assert.deepEqual(await get(headers), {
      status: 200,
      body: { status: "ok" },
    }, JSON.stringify(headers));
  }
  const withToken = await get({
    "x-forwarded-for": "203.0.113.9",
    authorization: `Bearer ${TOKEN}`,
  });
  assert.equal(withToken.body.outbox.backlog, 0);
  assert.equal(typeof withToken.body.version, "string");
});

Deno.test("healthz: probes within HEALTH_CACHE_MS share one computation", async () => {
  let reads = 0;
  await using app = await startTestApp({
    wrapKv: (kv) =>
      new Proxy(kv, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === "getMany") {
            return (...args: Parameters<Deno.Kv["getMany"]>) => {
              reads++;
              return target.getMany(...args);
            };
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
  });
  const probes = await Promise.all(
    Array.from({ length: 20 }, () => fetch(`${app.url}/healthz`)),
  );
  for (const res of probes) await res.body?.cancel();
  assert.equal(reads, 1);
  app.clock.advance(HEALTH_CACHE_MS);
  await (await fetch(`${app.url}/healthz`)).body?.cancel();
  assert.equal(reads, 2);
});

Deno.test("checkHealth: reads counters and one outbox key, whatever the backlog", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = Date.now();
    for (let i = 0; i < 2_000; i += 100) {
      const atomic = kv.atomic();
      for (let j = i; j < i + 100; j++) {
        addSignal(atomic, { type: "user_registered", userId: `u${j}` }, {
          id: String(j).padStart(6, "0"),
          now: now - 1_000 + j,
          queue: false,
        });
      }
      assert.ok((await atomic.commit()).ok);
    }
    let listed = 0;
    const counting = new Proxy(kv, {
      get(target, prop) {
        if (prop === "list") {
          return (...args: Parameters<Deno.Kv["list"]>) => {
            const iter = target.list(...args);
            return (async function* () {
              for await (const entry of iter) {
                listed++;
                yield entry;
              }
            })();
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const report = await checkHealth(counting, {
      now,
      version: "x",
      maxOutboxAgeMs: 60_000,
      passwords: { backend: "native", queued: 0 },
      log: { dropped: 0 },
    });
    assert.equal(report.outbox.backlog, 2_000);
    assert.equal(report.outbox.oldestAgeSeconds, 1);
    assert.equal(listed, 1);
    assert.equal(report.status, "ok");
  } finally {
    kv.close();
  }
});
