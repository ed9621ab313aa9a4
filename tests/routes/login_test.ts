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

async function activeAccount(app: TestApp, email = "ada@example.com") {
  const owner = app.browser();
  await owner.register({ email });
  const path = await app.activationPath(app.mailer.sent.length || 1);
  await owner.post(path);
}

Deno.test("account: without a session it redirects to the sign-in page", async () => {
  await using app = await startTestApp();
  const res = await app.browser().get("/account");
  assert.equal(res.status, 303);
  assert.equal(res.location, "/login");
});

Deno.test("login: an activated user signs in and lands on the account page", async () => {
  await using app = await startTestApp();
  await activeAccount(app);
  const browser = app.browser();
  const res = await browser.post("/login", {
    email: " ADA@example.com",
    password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
  assert.ok(browser.cookies.get("session"));
  const account = await browser.get("/account");
  assert.match(account.body, /Hello, Ada!/);
});

Deno.test("login: a wrong password and an unknown email get the same message", async () => {
  await using app = await startTestApp();
  await activeAccount(app);
  const wrong = await app.browser().post("/login", {
    email: "ada@example.com",
    password: "not the password",
  });
  const unknown = await app.browser().post("/login", {
    email: "nobody@example.com",
    password: "not the password",
  });
  for (const res of [wrong, unknown]) {
    assert.equal(res.status, 400);
    assert.match(res.body, /Incorrect email or password\./);
    // No field is marked, so the page does not ask to fix marked fields.
    assert.doesNotMatch(res.body, /fix the fields marked below/);
    assert.doesNotMatch(res.body, /aria-invalid/);
    assert.equal(res.headers.getSetCookie().length, 0);
  }
  assert.equal(
    wrong.body.replaceAll("ada@example.com", "X"),
    unknown.body.replaceAll("nobody@example.com", "X"),
  );
});

Deno.test("login: the right password on a pending account answers like a wrong one and mails a fresh link", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  await outboxDrained(app);
  app.clock.advance(3 * 60_000);
  const right = await app.browser().post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  const wrong = await app.browser().post("/login", {
    email: "ada@example.com",
    password: "not the password",
  });
  assert.equal(right.status, 400);
  assert.equal(right.body, wrong.body);
  assert.deepEqual(right.headers.getSetCookie(), []);
  // The wording still helps whoever forgot to activate, and offers a new
  // link in the message itself: one press, the address typed, no new field.
  assert.match(right.body, /once you have opened the link we emailed you/);
  const summary = right.body.slice(
    right.body.indexOf('class="error-summary"'),
    right.body.indexOf('<form method="post" action="/login"'),
  );
  assert.match(summary, /<form method="post" action="\/activate\/resend"/);
  assert.match(
    summary,
    /<input type="hidden" name="email" value="ada@example\.com"\/>/,
  );
  assert.match(summary, /Send a new link<\/button>/);
  assert.equal(right.body.match(/type="email"/g)?.length, 1);
  assert.doesNotMatch(right.body, /Didn&#39;t get the email|Didn't get/);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, 2);
  const newest = linkPath(app.mailer.sent[1].text, "/activate/");
  assert.equal((await app.browser().get(newest)).status, 200);
  // Within the mail cooldown, a second right password mails nothing more.
  await app.browser().post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, 2);
});

Deno.test("login: an empty form shows field errors", async () => {
  await using app = await startTestApp();
  const res = await app.browser().post("/login", {});
  assert.equal(res.status, 422);
  assert.match(res.body, /Enter your email address/);
  assert.match(res.body, /Enter a password/);
});

Deno.test("login: every sign-in gets a new session id", async () => {
  await using app = await startTestApp();
  await activeAccount(app);
  const browser = app.browser();
  await browser.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  const first = browser.cookies.get("session");
  await browser.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  const second = browser.cookies.get("session");
  assert.ok(first && second);
  assert.notEqual(first, second);
  // The old one was replaced, not kept alongside (1 from activation + 1).
  assert.equal(await countPrefix(app.kv, ["sessions"]), 2);
});

Deno.test("logout: deletes the session so a copied cookie stops working", async () => {
  await using app = await startTestApp();
  await activeAccount(app);
  const browser = app.browser();
  await browser.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  const copy = app.browser();
  copy.cookies.set("session", browser.cookies.get("session")!);
  assert.equal((await copy.get("/account")).status, 200);

  const res = await browser.post("/logout");
  assert.equal(res.status, 303);
  assert.equal(res.location, "/login");
  assert.equal(browser.cookies.has("session"), false);
  const after = await copy.get("/account");
  assert.equal(after.status, 303);
  assert.equal(after.location, "/login");
});

Deno.test("pages: unknown paths get a 404 page in the layout", async () => {
  await using app = await startTestApp();
  const res = await app.browser().get("/no/such/page");
  assert.equal(res.status, 404);
  assert.match(res.body, /Page not found/);
  assert.match(res.body, /<header class="site-header">/);
});

Deno.test("pages: a signed-in person asking to register or for a reset link goes to the account page", async () => {
  await using app = await startTestApp();
  const browser = await createActiveAccount(app);
  for (const path of ["/register", "/password/forgot"]) {
    const res = await browser.get(path);
    assert.equal(res.status, 303, path);
    assert.equal(res.location, "/account", path);
  }
  // Signed out, both pages are there as before.
  for (const path of ["/register", "/password/forgot"]) {
    assert.equal((await app.browser().get(path)).status, 200, path);
  }
});

Deno.test("account: one way to sign out, and new passwords get the full password field", async () => {
  await using app = await startTestApp();
  const browser = await createActiveAccount(app);
  const page = await browser.get("/account");
  assert.equal(page.status, 200);
  assert.equal(page.body.match(/action="\/logout"/g)?.length, 1);
  // "Password" heads the section; the button says what it does.
  assert.match(page.body, /<h2 id="change-password-title">Password<\/h2>/);
  assert.match(page.body, />Change password<\/button>/);
  // The new password is an island with the strength meter; without
  // JavaScript the same input is there, so the form still works.
  assert.match(
    page.body,
    /data-island="NewPassword"/,
  );
  assert.match(page.body, /id="field-password-meter"/);
  assert.match(page.body, /name="password_confirm" type="password"/);
});
