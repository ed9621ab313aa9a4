import assert from "node:assert/strict";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  outboxDrained,
  startTestApp,
  type TestApp,
} from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

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
  // The form again, with the address and when it can be sent.
  assert.match(refused.body, /A new link can be sent in [01]:\d\d\./);
  assert.match(refused.body, /value="p\d+@example\.com"/);
});

Deno.test("limits: one address is limited across IPs, and each action has its own budget", async () => {
  await using app = await startTestApp({
    env: {
      RATE_LIMIT_EMAIL: "2/15m",
      TRUSTED_PROXY_HOPS: "1",
      // The interval between two mails to one address is tested elsewhere.
      RESEND_INTERVAL: "1ms",
    },
  });
  const from = (ip: string) => ({ "x-forwarded-for": `10.9.9.9, ${ip}` });
  const forgot = (ip: string) => {
    app.clock.advance(1);
    return app.browser().post(
      "/password/forgot",
      { email: "ada@example.com" },
      from(ip),
    );
  };
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
    await countPrefix(app.kv, keys.loginAttemptsOf("ada@example.com")),
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

/** A sign-in from `ip`, as the one trusted proxy reports it. */
function loginFrom(app: TestApp, ip: string, password: string) {
  return app.browser().post("/login", { email: "ada@example.com", password }, {
    "x-forwarded-for": ip,
  });
}

Deno.test("login: strangers on ten /64s cannot lock the owner out (issue 11, hole 6)", async () => {
  await using app = await startTestApp({
    env: {
      TRUSTED_PROXY_HOPS: "1",
      RATE_LIMIT_EMAIL: "10/15m",
      RATE_LIMIT_IP: "30/15m",
      // One checked failure per client, the rest slowed down unchecked: the
      // same hundred attempts with ten Argon2 checks instead of thirty.
      LOGIN_FREE_FAILURES: "1",
    },
  });
  // Signed in on her laptop (no proxy header: the connection's address).
  const laptop = await createActiveAccount(app);
  const statuses: number[] = [];
  for (let net = 1; net <= 10; net++) {
    for (let i = 0; i < 10; i++) {
      const ip = `2001:db8:1:${net}::${i + 1}`;
      statuses.push((await loginFrom(app, ip, `guess ${i} is wrong`)).status);
    }
  }
  assert.ok(statuses.includes(429), "the strangers are slowed down");
  // The owner, from a client that never failed, signs in…
  const owner = await loginFrom(app, "198.51.100.2", GOOD_PASSWORD);
  assert.equal(owner.status, 303);
  assert.equal(owner.location, "/account");
  // …and can change her password.
  const change = await laptop.post("/account/password", {
    current_password: GOOD_PASSWORD,
    password: "a brand new passphrase",
    password_confirm: "a brand new passphrase",
  });
  assert.equal(change.status, 303);
  assert.equal(change.location, "/account");
});

Deno.test("login: a spent ceiling holds back the networks that failed, lets a fresh one through once", async () => {
  // Ceiling: 10 × 1 failures per 15 minutes.
  await using app = await startTestApp({
    env: { TRUSTED_PROXY_HOPS: "1", RATE_LIMIT_EMAIL: "1/15m" },
  });
  const laptop = await createActiveAccount(app);
  // Ten wrong passwords, each checked, from ten /64s of one /48.
  for (let net = 1; net <= 10; net++) {
    const res = await loginFrom(app, `2001:db8:1:${net}::1`, "wrong guess!");
    assert.equal(res.status, 400, `client ${net}`);
  }
  // Spent: another /64 of that /48 is held back without a check…
  const same48 = await loginFrom(app, "2001:db8:1:99::1", GOOD_PASSWORD);
  assert.equal(same48.status, 429);
  assert.ok(Number(same48.headers.get("retry-after")) <= 15 * 60);
  // …a fresh network is let through: the owner gets in.
  const owner = await loginFrom(app, "198.51.100.2", GOOD_PASSWORD);
  assert.equal(owner.location, "/account");
  // A fresh network that guesses wrong gets that one failure, then is held
  // back like the rest: one guess per network, not one per /64.
  assert.equal(
    (await loginFrom(app, "2001:db8:2:1::1", "another guess")).status,
    400,
  );
  assert.equal(
    (await loginFrom(app, "2001:db8:2:2::1", GOOD_PASSWORD)).status,
    429,
  );
  // Refused attempts did not count: the failures are 10 + 1.
  const failures = [];
  for await (
    const e of app.kv.list<number>({
      prefix: ["rate_limits", "login:failures"],
    })
  ) {
    failures.push(e.value);
  }
  assert.deepEqual(failures, [11]);
  // The owner's change of password is not held back either.
  const change = await laptop.post("/account/password", {
    current_password: GOOD_PASSWORD,
    password: "a brand new passphrase",
    password_confirm: "a brand new passphrase",
  });
  assert.equal(change.location, "/account");
  // A new window: the ceiling is there to spend again.
  app.clock.advance(15 * 60_000);
  assert.equal(
    (await loginFrom(app, "2001:db8:1:99::1", "a brand new passphrase"))
      .location,
    "/account",
  );
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

Deno.test("limits: a refused form comes back with what was typed and the wait, never the password", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_IP: "1/1m" } });
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "/login",
      { email: "ada@example.com", password: "secret words 42" },
      /Sign in/,
    ],
    ["/password/forgot", { email: "ada@example.com" }, /Email me a link/],
    ["/register", {
      first_name: "Ada",
      email: "ada@example.com",
      password: "secret words 42",
      password_confirm: "secret words 42",
    }, /Create account/],
  ];
  for (const [path, form, button] of cases) {
    const b = app.browser();
    await b.post(path, form);
    const users = await countPrefix(app.kv, keys.users());
    const res = await b.post(path, form);
    // Refused means nothing written.
    assert.equal(await countPrefix(app.kv, keys.users()), users);
    assert.equal(res.status, 429, path);
    const wait = Number(res.headers.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 60, `${path}: Retry-After ${wait}`);
    assert.match(res.body, /<div class="notice limit" role="alert">/);
    assert.match(
      res.body,
      new RegExp(
        `You can try again in ${wait} second${wait === 1 ? "" : "s"}\\.`,
      ),
    );
    // The same form, filled in, and a button that waits where JS runs.
    assert.match(res.body, new RegExp(`<form method="post" action="${path}"`));
    assert.match(res.body, /value="ada@example\.com"/);
    assert.doesNotMatch(res.body, /secret words 42/);
    assert.match(
      res.body,
      new RegExp(`&quot;(seconds|waitSeconds)&quot;:${wait}[,}]`),
    );
    assert.match(res.body, button);
  }
});

Deno.test("limits: a password change refused for now keeps the account page and says when", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_EMAIL: "1/15m" } });
  const browser = await createActiveAccount(app);
  const change = (current: string) =>
    browser.post("/account/password", {
      current_password: current,
      password: "a brand new passphrase",
      password_confirm: "a brand new passphrase",
    });
  assert.equal((await change("not my password")).status, 422);
  const refused = await change(GOOD_PASSWORD);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get("retry-after")) > 0);
  // The account page with its form, the wait in words and a waiting button.
  assert.match(refused.body, /<h2 id="change-password-title">Password<\/h2>/);
  assert.match(refused.body, /class="notice limit" role="alert"/);
  assert.match(refused.body, /You can try again in \d+ (seconds|minutes)/);
  assert.match(refused.body, /data-island="WaitButton"/);
  assert.doesNotMatch(refused.body, /value="a brand new passphrase"/);
});

Deno.test("limits: an activation or a reset refused for now keeps its form and says when", async () => {
  await using app = await startTestApp({
    env: { RATE_LIMIT_IP: "2/15m", TRUSTED_PROXY_HOPS: "1" },
  });
  const from = { "x-forwarded-for": "10.0.0.1" };
  await createActiveAccount(app, { email: "ada@example.com" });
  await app.browser().post("/password/forgot", { email: "ada@example.com" });
  await app.browser().register({ email: "bob@example.com" });
  await outboxDrained(app);
  const mailTo = (to: string, kind: string) =>
    app.mailer.sent.find((m) => m.to === to && m.text.includes(kind))!.text;
  const reset = linkPath(
    mailTo("ada@example.com", "/password/reset/"),
    "/password/reset/",
  );
  const link = linkPath(mailTo("bob@example.com", "/activate/"), "/activate/");

  // Activation from another browser: two wrong passwords spend the
  // client's hashing budget; the third is refused on the same page.
  const other = app.browser();
  const wrong = (p: string) => other.post(link, { current_password: p }, from);
  for (let i = 0; i < 2; i++) {
    assert.equal((await wrong(`wrong ${i}`)).status, 422);
  }
  const held = await wrong("wrong again");
  assert.equal(held.status, 429);
  assert.ok(Number(held.headers.get("retry-after")) > 0);
  assert.match(held.body, /activating the account for bob@example\.com/);
  assert.match(held.body, /class="notice limit" role="alert"/);
  assert.match(held.body, /name="current_password"/);
  assert.match(held.body, /data-island="WaitButton"/);

  // The same budget holds a reset back: its form comes back, with the wait.
  const refused = await app.browser().post(reset, {
    password: "a brand new passphrase",
    password_confirm: "a brand new passphrase",
  }, from);
  assert.equal(refused.status, 429);
  assert.match(refused.body, /<h1>Choose a new password<\/h1>/);
  assert.match(refused.body, /class="notice limit" role="alert"/);
  assert.match(refused.body, /data-island="WaitButton"/);
  assert.match(refused.body, new RegExp(`action="${reset}"`));
});
