import assert from "node:assert/strict";
import {
  beginLoginAttempt,
  hitCooldown,
  hitRateLimit,
  loginDelayMs,
  passLoginCeiling,
  recordLoginFailure,
} from "../../lib/security/rate_limit.ts";
import { loadConfig } from "../../lib/app/config.ts";
import { keys } from "../../lib/kv/keys.ts";

Deno.test("rate limit: 50 concurrent hits on a real KV let exactly the limit through", async () => {
  using kv = await Deno.openKv(":memory:");
  const rule = { limit: 7, windowMs: 60_000 };
  const now = 1_000_000;
  const results = await Promise.all(
    Array.from(
      { length: 50 },
      () => hitRateLimit(kv, "t", "1.2.3.4", rule, now),
    ),
  );
  assert.equal(results.filter((r) => r.ok).length, 7);
  for (const r of results.filter((r) => !r.ok)) {
    assert.ok(!r.ok && r.retryAfterMs === 20_000);
  }
  // Another subject has its own budget; the next window starts afresh.
  assert.ok((await hitRateLimit(kv, "t", "5.6.7.8", rule, now)).ok);
  assert.ok((await hitRateLimit(kv, "t", "1.2.3.4", rule, now + 20_000)).ok);
});

Deno.test("rate limit: a pass says how long until the next one would pass", async () => {
  using kv = await Deno.openKv(":memory:");
  const rule = { limit: 2, windowMs: 60_000 };
  const now = 1_000_000; // 40 s into a window
  assert.deepEqual(await hitRateLimit(kv, "t", "s", rule, now), {
    ok: true,
    remaining: 1,
    waitMs: 0,
  });
  // The last pass of the window: the next one waits for the window's end.
  assert.deepEqual(await hitRateLimit(kv, "t", "s", rule, now + 5_000), {
    ok: true,
    remaining: 0,
    waitMs: 15_000,
  });
  assert.deepEqual(await hitRateLimit(kv, "t", "s", rule, now + 5_000), {
    ok: false,
    retryAfterMs: 15_000,
  });
});

Deno.test("cooldown: one pass per interval from the last pass, even in a burst", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = 1_000_000;
  const burst = await Promise.all(
    Array.from(
      { length: 30 },
      () => hitCooldown(kv, "r", "a@x.io", 60_000, now),
    ),
  );
  const passed = burst.filter((r) => r.ok);
  assert.deepEqual(passed, [{ ok: true, remaining: 0, waitMs: 60_000 }]);
  assert.deepEqual(await hitCooldown(kv, "r", "a@x.io", 60_000, now + 59_000), {
    ok: false,
    retryAfterMs: 1_000,
  });
  // Measured from the pass, not from a window's edge.
  assert.ok((await hitCooldown(kv, "r", "a@x.io", 60_000, now + 60_000)).ok);
  assert.equal(
    (await hitCooldown(kv, "r", "a@x.io", 60_000, now + 61_000)).ok,
    false,
  );
  // Another subject and another rule wait for nobody.
  assert.ok((await hitCooldown(kv, "r", "b@x.io", 60_000, now)).ok);
  assert.ok((await hitCooldown(kv, "q", "a@x.io", 60_000, now)).ok);
});

Deno.test("login throttle: each failure past the free ones doubles the wait", async () => {
  assert.deepEqual(
    [0, 2, 3, 4, 5, 30].map((n) => loginDelayMs(n, 3)),
    [0, 0, 1_000, 2_000, 4_000, 900_000],
  );
  using kv = await Deno.openKv(":memory:");
  let now = 0;
  for (let i = 0; i < 3; i++) {
    assert.ok((await beginLoginAttempt(kv, "a@x.io", "1.2.3.4", 3, now)).ok);
  }
  const blocked = await beginLoginAttempt(
    kv,
    "a@x.io",
    "1.2.3.4",
    3,
    now + 500,
  );
  assert.deepEqual(blocked, { ok: false, retryAfterMs: 500 });
  now += 1_000;
  assert.ok((await beginLoginAttempt(kv, "a@x.io", "1.2.3.4", 3, now)).ok);
  assert.equal(
    (await beginLoginAttempt(kv, "a@x.io", "1.2.3.4", 3, now + 1_999)).ok,
    false,
  );
  // Parallel guesses get one turn between them, not one each.
  const burst = await Promise.all(
    Array.from(
      { length: 20 },
      () => beginLoginAttempt(kv, "a@x.io", "1.2.3.4", 3, now + 2_000),
    ),
  );
  assert.equal(burst.filter((r) => r.ok).length, 1);
});

Deno.test("config: rate limits parse as count/window and bad ones are named", () => {
  const ok = loadConfig({ RATE_LIMIT_IP: "5/90s", RATE_LIMIT_EMAIL: "2/1h" });
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.rateLimitIp, { limit: 5, windowMs: 90_000 });
  assert.deepEqual(ok.config.rateLimitEmail, { limit: 2, windowMs: 3_600_000 });
  const bad = loadConfig({ RATE_LIMIT_IP: "lots", RATE_LIMIT_EMAIL: "0/1m" });
  assert.ok(!bad.ok);
  assert.match(bad.error, /RATE_LIMIT_IP: "lots" is not a rate like 20\/15m/);
  assert.match(bad.error, /RATE_LIMIT_EMAIL/);
});

Deno.test("config: RESEND_INTERVAL is a duration, a minute unless set", () => {
  const plain = loadConfig({});
  assert.ok(plain.ok);
  assert.equal(plain.config.resendIntervalMs, 60_000);
  const set = loadConfig({ RESEND_INTERVAL: "2m" });
  assert.ok(set.ok && set.config.resendIntervalMs === 120_000);
  const bad = loadConfig({ RESEND_INTERVAL: "soon" });
  assert.ok(!bad.ok);
  assert.match(bad.error, /RESEND_INTERVAL: "soon" is not a duration/);
});

Deno.test("rate limit: a burst under the limit all passes, however contended", async () => {
  using kv = await Deno.openKv(":memory:");
  const results = await Promise.all(
    Array.from({ length: 300 }, () =>
      hitRateLimit(kv, "burst", "1.2.3.4", {
        limit: 1000,
        windowMs: 60_000,
      }, 0)),
  );
  // Each lost race retries after a random pause instead of giving up.
  assert.equal(results.filter((r) => r.ok).length, 300);
  assert.equal(
    (await kv.get<number>(keys.rateLimit("burst", "1.2.3.4", 0))).value,
    300,
  );
});

Deno.test("login ceiling: counts checked failures only; spent, a fresh network gets `free` passes even in a burst", async () => {
  using kv = await Deno.openKv(":memory:");
  const ceiling = { limit: 3, windowMs: 60_000 };
  const opts = { ceiling, free: 2 };
  const now = 1_200_000;
  const pass = (network: string) =>
    passLoginCeiling(kv, "ada@example.com", network, opts, now);
  // Passing the ceiling costs nothing: only failures count.
  for (let i = 0; i < 10; i++) assert.ok((await pass("192.0.2.1")).ok);
  for (let i = 0; i < 3; i++) {
    await recordLoginFailure(kv, "ada@example.com", "192.0.2.1", ceiling, now);
  }
  const held = await pass("192.0.2.1");
  assert.ok(!held.ok && held.retryAfterMs === 60_000);
  const burst = await Promise.all(
    Array.from({ length: 20 }, () => pass("2001:db8:5::/48")),
  );
  assert.equal(burst.filter((r) => r.ok).length, 2);
  // Another address has its own ceiling.
  assert.ok(
    (await passLoginCeiling(kv, "bob@example.com", "192.0.2.1", opts, now)).ok,
  );
});

Deno.test("rate limit: a subject of any length fits a key and keeps its own count", async () => {
  using kv = await Deno.openKv(":memory:");
  const rule = { limit: 1, windowMs: 60_000 };
  const long = "x".repeat(10_000);
  const other = "x".repeat(9_999) + "y";
  assert.equal((await hitRateLimit(kv, "r", long, rule, 0)).ok, true);
  assert.equal((await hitRateLimit(kv, "r", long, rule, 0)).ok, false);
  assert.equal((await hitRateLimit(kv, "r", other, rule, 0)).ok, true);
  assert.equal((await hitCooldown(kv, "c", long, 1_000, 0)).ok, true);
  assert.equal((await hitCooldown(kv, "c", long, 1_000, 1)).ok, false);
  assert.equal((await beginLoginAttempt(kv, long, long, 3, 0)).ok, true);
});
