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
import { type CheapHasher, createCheapHasher } from "../model/cheap_hasher.ts";

const NEW_PASSWORD = "a brand new passphrase";

async function resetLink(app: TestApp, email = "ada@example.com") {
  const before = app.mailer.sent.length;
  const res = await app.browser().post("/password/forgot", { email });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/password/forgot/sent");
  const mails = await app.mailer.waitFor(before + 1);
  return linkPath(mails[before].text, "/password/reset/");
}

function signIn(app: TestApp, password: string) {
  return app.browser().post("/login", { email: "ada@example.com", password });
}

Deno.test("password: a reset link saves the new password, ends other sessions and signs in", async () => {
  await using app = await startTestApp();
  const elsewhere = await createActiveAccount(app);
  const path = await resetLink(app);
  const mail = app.mailer.sent.at(-1)!;
  assert.equal(mail.subject, "Reset your cloud-user password");
  assert.match(mail.text, /works for 1 hour and/);

  const browser = app.browser();
  const form = await browser.get(path);
  assert.equal(form.status, 200);
  assert.equal(form.headers.get("cache-control"), "no-store");
  assert.match(form.body, new RegExp(`action="${path}"`));

  const res = await browser.post(path, {
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
  const account = await browser.get("/account");
  assert.match(account.body, /Your new password is saved/);
  // Said once: a reload does not announce it again.
  assert.doesNotMatch((await browser.get("/account")).body, /is saved/);
  // The session from activation is gone; only the new one is left.
  assert.equal((await elsewhere.get("/account")).status, 303);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);

  assert.equal((await signIn(app, GOOD_PASSWORD)).status, 400);
  assert.equal((await signIn(app, NEW_PASSWORD)).location, "/account");
});

Deno.test("password: a reset link works once", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const path = await resetLink(app);
  const form = { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD };
  assert.equal((await app.browser().post(path, form)).status, 303);
  for (
    const res of [
      await app.browser().get(path),
      await app.browser().post(path, form),
    ]
  ) {
    assert.equal(res.status, 400);
    assert.match(res.body, /<h1>This reset link has been used<\/h1>/);
    assert.match(
      res.body,
      /the password for <span class="masked">a…@example\.com<\/span> has changed/,
    );
    assert.match(res.body, /action="\/password\/renew"/);
    assert.match(res.body, /class="primary">Email me a new link</);
  }
});

Deno.test("password: an expired reset link mails a new one with one press; a broken one says it is incomplete", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const path = await resetLink(app);
  const token = path.slice("/password/reset/".length);
  app.clock.advance(3_600_001);
  const page = await app.browser().get(path);
  assert.equal(page.status, 400);
  assert.match(page.body, /<h1>This reset link has expired<\/h1>/);
  assert.match(
    page.body,
    /work for 1 hour.*<span class="masked">a…@example\.com<\/span>/,
  );
  assert.doesNotMatch(page.body, /name="email"/);
  const sentBefore = app.mailer.sent.length;
  const renew = await app.browser().post("/password/renew", { link: token });
  assert.equal(renew.status, 303);
  assert.equal(renew.location, "/password/forgot/sent");
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, sentBefore + 1);
  const fresh = linkPath(app.mailer.sent.at(-1)!.text, "/password/reset/");
  assert.equal((await app.browser().get(fresh)).status, 200);

  const broken = await app.browser().get(path.slice(0, -3));
  assert.equal(broken.status, 400);
  assert.match(broken.body, /<h1>This reset link is incomplete<\/h1>/);
  assert.match(broken.body, /href="\/password\/forgot">Get a new link</);
  assert.equal(
    (await app.browser().post("/password/renew", { link: "a.b" })).status,
    400,
  );
});

Deno.test("password: a reset link expires after an hour", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const path = await resetLink(app);
  app.clock.advance(3_600_001);
  const res = await app.browser().post(path, {
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.status, 400);
  assert.match(res.body, /This reset link has expired/);
  assert.equal((await signIn(app, GOOD_PASSWORD)).location, "/account");
});

Deno.test("password: a reset link dies when the password changes another way", async () => {
  await using app = await startTestApp();
  const browser = await createActiveAccount(app);
  const path = await resetLink(app);
  const changed = await browser.post("/account/password", {
    current_password: GOOD_PASSWORD,
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(changed.location, "/account");
  const account = await browser.get("/account");
  assert.match(
    account.body,
    /class="notice success" role="status">Your password is changed/,
  );
  assert.doesNotMatch((await browser.get("/account")).body, /is changed/);
  const res = await app.browser().get(path);
  assert.equal(res.status, 400);
  assert.match(res.body, /This reset link has been used/);
});

Deno.test("password: a weak or mismatched new password re-renders the form and keeps the link", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const path = await resetLink(app);
  const cases: [Record<string, string>, RegExp][] = [
    [
      { password: "password123", password_confirm: "password123" },
      /most common/,
    ],
    [{ password: NEW_PASSWORD, password_confirm: "other" }, /do not match/],
    [
      { password: "ada@example.com1", password_confirm: "ada@example.com1" },
      /name or email/,
    ],
  ];
  for (const [form, message] of cases) {
    const res = await app.browser().post(path, form);
    assert.equal(res.status, 422);
    assert.match(res.body, message);
  }
  assert.equal((await app.browser().get(path)).status, 200);
});

Deno.test("password: forgot answers the same for active, pending and unknown addresses", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app, { email: "active@example.com" });
  await app.browser().register({ email: "pending@example.com" });
  await outboxDrained(app);
  const before = app.mailer.sent.length;
  const answers = [];
  for (const email of ["active@", "pending@", "nobody@"]) {
    const res = await app.browser().post("/password/forgot", {
      email: `${email}example.com`,
    });
    answers.push([
      res.status,
      res.location,
      res.body,
      res.headers.getSetCookie(),
    ]);
  }
  assert.deepEqual(answers[1], answers[0]);
  assert.deepEqual(answers[2], answers[0]);
  await outboxDrained(app);
  assert.deepEqual(
    app.mailer.sent.slice(before).map((m) => m.to),
    ["active@example.com"],
  );
  const sent = await app.browser().get("/password/forgot/sent");
  assert.match(sent.body, /If an active account uses that address/);
});

Deno.test("password: changing it on /account needs the current one and ends other sessions", async () => {
  await using app = await startTestApp();
  const browser = await createActiveAccount(app);
  const other = app.browser();
  await other.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  assert.equal((await other.get("/account")).status, 200);

  const wrong = await browser.post("/account/password", {
    current_password: "not my password",
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(wrong.status, 422);
  assert.match(wrong.body, /not your current password/);

  const res = await browser.post("/account/password", {
    current_password: GOOD_PASSWORD,
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.match((await browser.get(res.location!)).body, /password is changed/);
  assert.equal((await other.get("/account")).status, 303);
  assert.equal((await signIn(app, NEW_PASSWORD)).location, "/account");
});

Deno.test("password: changing it without a session goes to sign-in", async () => {
  await using app = await startTestApp();
  const res = await app.browser().post("/account/password", {
    current_password: GOOD_PASSWORD,
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/login");
});

Deno.test("password change: guesses at the current password are rate limited", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_EMAIL: "3/15m" } });
  const browser = await createActiveAccount(app);
  const guess = (current: string) =>
    browser.post("/account/password", {
      current_password: current,
      password: "a brand new passphrase",
      password_confirm: "a brand new passphrase",
    });
  for (let i = 0; i < 3; i++) {
    assert.equal((await guess(`wrong guess ${i}`)).status, 422);
  }
  const limited = await guess("wrong guess 3");
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get("retry-after")) > 0);
});

/**
 * A sign-in with the old password that has read the stored hash when a
 * password change commits, and finishes after it (issue 11, hole 3).
 */
async function signInAcross(
  app: TestApp,
  hasher: CheapHasher,
  change: () => Promise<unknown>,
) {
  const late = app.browser();
  const held = hasher.holdNextVerify();
  const login = late.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  await held.reached;
  await change();
  held.release();
  const res = await login;
  return { late, res };
}

Deno.test("password: a sign-in racing a reset leaves no session that outlives it", async () => {
  const hasher = await createCheapHasher();
  await using app = await startTestApp({ passwords: hasher });
  await createActiveAccount(app);
  const path = await resetLink(app);
  const resetter = app.browser();
  const { late } = await signInAcross(app, hasher, async () => {
    const reset = await resetter.post(path, {
      password: NEW_PASSWORD,
      password_confirm: NEW_PASSWORD,
    });
    assert.equal(reset.location, "/account");
  });
  // Whatever the late sign-in answered, its session does not work.
  assert.equal((await late.get("/account")).status, 303);
  assert.equal((await late.get("/api/me")).status, 401);
  assert.equal((await resetter.get("/account")).status, 200);
});

Deno.test("password: a sign-in racing a change leaves no session that outlives it", async () => {
  const hasher = await createCheapHasher();
  await using app = await startTestApp({ passwords: hasher });
  const owner = await createActiveAccount(app);
  const { late } = await signInAcross(app, hasher, async () => {
    const changed = await owner.post("/account/password", {
      current_password: GOOD_PASSWORD,
      password: NEW_PASSWORD,
      password_confirm: NEW_PASSWORD,
    });
    assert.equal(changed.location, "/account");
  });
  assert.equal((await late.get("/api/me")).status, 401);
  // The session that changed the password goes on.
  assert.equal((await owner.get("/account")).status, 200);
});
