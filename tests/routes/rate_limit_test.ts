import assert from "node:assert/strict";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  startTestApp,
} from "../helpers.ts";

Deno.test("limits: 50 parallel requests from one IP get exactly the limit through", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_IP: "10/1m" } });
  const results = await Promise.all(
    Array.from(
      { length: 50 },
      (_, i) =>
        app.browser().post("/activate/resend", { email: `p${i}@example.com` }),
    ),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 303).length, 10);
  assert.equal(statuses.filter((s) => s === 429).length, 40);
  const refused = results.find((r) => r.status === 429)!;
  const retryAfter = Number(refused.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.match(refused.body, /Too many attempts/);
  assert.match(refused.body, /try again in \d+ seconds/);
});

Deno.test("limits: one address is limited across IPs, and each action has its own budget", async () => {
  await using app = await startTestApp({
    env: { RATE_LIMIT_EMAIL: "2/15m", TRUSTED_PROXY_HOPS: "1" },
  });
  const from = (ip: string) => ({ "x-forwarded-for": `10.9.9.9, ${ip}` });
  const forgot = (ip: string) =>
    app.browser().post(
      "/password/forgot",
      { email: "ada@example.com" },
      from(ip),
    );
  assert.equal((await forgot("1.1.1.1")).status, 303);
  assert.equal((await forgot("2.2.2.2")).status, 303);
  const third = await forgot("3.3.3.3");
  assert.equal(third.status, 429);
  assert.match(third.body, /try again in \d+ (minutes|seconds)/);
  // Resend for the same address is a different budget.
  const resend = await app.browser().post(
    "/activate/resend",
    { email: "ada@example.com" },
    from("1.1.1.1"),
  );
  assert.equal(resend.status, 303);
  // After the window the address may ask again.
  app.clock.advance(15 * 60_000);
  assert.equal((await forgot("1.1.1.1")).status, 303);
});

Deno.test("limits: register and login are limited per IP", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_IP: "1/1m" } });
  assert.equal(
    (await app.browser().post("/login", {
      email: "x@example.com",
      password: "whatever it is",
    })).status,
    400,
  );
  const login = await app.browser().post("/login", {
    email: "y@example.com",
    password: "whatever it is",
  });
  assert.equal(login.status, 429);
  assert.equal((await app.browser().register()).status, 303);
  assert.equal(
    (await app.browser().register({ email: "b@example.com" })).status,
    429,
  );
});

Deno.test("login: failures for one account slow down progressively, known or not", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  for (const email of ["ada@example.com", "nobody@example.com"]) {
    const attempt = (password = "wrong password!") =>
      app.browser().post("/login", { email, password });
    for (let i = 0; i < 3; i++) assert.equal((await attempt()).status, 400);
    const slowed = await attempt(GOOD_PASSWORD);
    assert.equal(slowed.status, 429);
    assert.equal(slowed.headers.get("retry-after"), "1");
    app.clock.advance(1_000);
    assert.equal((await attempt()).status, 400);
    const longer = await attempt();
    assert.equal(longer.headers.get("retry-after"), "2");
    app.clock.advance(2_000);
  }
  // The right password after the wait signs in and clears the count.
  const ok = await app.browser().post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  assert.equal(ok.location, "/account");
  assert.equal(
    await countPrefix(app.kv, ["login_attempts", "ada@example.com"]),
    0,
  );
});

Deno.test("login: a stranger's failures do not lock the owner out elsewhere", async () => {
  await using app = await startTestApp({
    env: { TRUSTED_PROXY_HOPS: "1", RATE_LIMIT_EMAIL: "3/15m" },
  });
  await createActiveAccount(app);
  const from = (ip: string, password: string) =>
    app.browser().post("/login", { email: "ada@example.com", password }, {
      "x-forwarded-for": ip,
    });
  // The attacker runs out of turns and budget from his address…
  const attacker = [];
  for (let i = 0; i < 6; i++) {
    attacker.push((await from("203.0.113.7", `guess ${i} is wrong`)).status);
  }
  assert.ok(attacker.includes(429), `attacker: ${attacker}`);
  // …while the owner, from hers, signs in at once.
  const owner = await from("198.51.100.2", GOOD_PASSWORD);
  assert.equal(owner.status, 303);
  assert.equal(owner.location, "/account");
});

Deno.test("login: guesses spread over many clients meet a per-address ceiling", async () => {
  await using app = await startTestApp({
    env: { TRUSTED_PROXY_HOPS: "1", RATE_LIMIT_EMAIL: "1/15m" },
  });
  const statuses = [];
  for (let i = 0; i < 12; i++) {
    const res = await app.browser().post("/login", {
      email: "ada@example.com",
      password: `guess ${i} is wrong`,
    }, { "x-forwarded-for": `203.0.113.${i + 1}` });
    statuses.push(res.status);
  }
  // Ten times the per-client budget, then 429 for everyone.
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(400));
  assert.deepEqual(statuses.slice(10), [429, 429]);
});

Deno.test("limits: an IPv6 client counts as its /64, so new low bits buy nothing", async () => {
  await using app = await startTestApp({
    env: { RATE_LIMIT_IP: "2/1m", TRUSTED_PROXY_HOPS: "1" },
  });
  const resend = (ip: string, i: number) =>
    app.browser().post(
      "/activate/resend",
      { email: `v6-${i}@example.com` },
      { "x-forwarded-for": ip },
    );
  assert.equal((await resend("2001:db8:1:2::a", 1)).status, 303);
  assert.equal((await resend("2001:DB8:1:2:ffff:1:2:3", 2)).status, 303);
  // A third address in the same /64 (written out in full) is over budget.
  assert.equal((await resend("2001:0db8:0001:0002:0:0:0:b", 3)).status, 429);
  // The next /64 is another client.
  assert.equal((await resend("2001:db8:1:3::a", 4)).status, 303);
  // An IPv4-mapped address is its IPv4 address.
  assert.equal((await resend("::ffff:192.0.2.7", 5)).status, 303);
  assert.equal((await resend("192.0.2.7", 6)).status, 303);
  assert.equal((await resend("::FFFF:192.0.2.7", 7)).status, 429);
});
