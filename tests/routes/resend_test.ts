import assert from "node:assert/strict";
import { REGISTER_AGAIN_MAIL_COOLDOWN_MS } from "../../lib/accounts/accounts.ts";
import {
  countPrefix,
  createActiveAccount,
  linkPath,
  outboxDrained,
  type Sent,
  startTestApp,
} from "../helpers.ts";
import type { User } from "../../lib/accounts/users.ts";
import { createCheapHasher } from "../model/cheap_hasher.ts";
import { keys } from "../../lib/kv/keys.ts";

async function userByEmail(kv: Deno.Kv, email: string) {
  const id = (await kv.get<string>(keys.userByEmail(email))).value!;
  return (await kv.get<User>(keys.user(id))).value!;
}

/** What an observer sees, minus nothing: status, location, body, cookies. */
function visible(res: Sent) {
  return {
    status: res.status,
    location: res.location,
    body: res.body,
    cookies: res.headers.getSetCookie(),
    type: res.headers.get("content-type"),
  };
}

Deno.test("resend: a pending user gets a new link and every older one dies", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const first = await app.activationPath(1);

  const res = await app.browser().post("/activate/resend", {
    email: "ADA@example.com",
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/activate/sent");
  const second = await app.activationPath(2);
  assert.notEqual(first, second);
  assert.equal((await userByEmail(app.kv, "ada@example.com")).tokenVersion, 1);

  const old = await app.browser().post(first);
  assert.equal(old.status, 400);
  assert.match(old.body, /A newer link replaced this one/);
  const fresh = await owner.post(second);
  assert.equal(fresh.status, 303);
  assert.equal(fresh.location, "/account");
});

Deno.test("resend: pending, active and unknown addresses get byte-identical answers", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app, { email: "active@example.com" });
  await app.browser().register({ email: "pending@example.com" });
  await outboxDrained(app);
  const mailsBefore = app.mailer.sent.length;

  const answers = [];
  for (const email of ["pending@", "active@", "nobody@"]) {
    answers.push(
      visible(
        await app.browser().post("/activate/resend", {
          email: `${email}example.com`,
        }),
      ),
    );
  }
  assert.deepEqual(answers[1], answers[0]);
  assert.deepEqual(answers[2], answers[0]);
  await outboxDrained(app);
  // Only the pending account got something.
  assert.deepEqual(
    app.mailer.sent.slice(mailsBefore).map((m) => m.to),
    ["pending@example.com"],
  );
  const page = await app.browser().get("/activate/sent");
  assert.equal(page.status, 200);
  assert.match(page.body, /a new link is on its way/);
});

Deno.test("resend: a malformed address re-renders the form with a message", async () => {
  await using app = await startTestApp();
  const res = await app.browser().post("/activate/resend", { email: "ada@" });
  assert.equal(res.status, 422);
  assert.match(res.body, /like name@example\.com/);
  assert.match(res.body, /id="resend-email"[^>]*aria-invalid="true"/);
  assert.match(res.body, /value="ada@"/);
});

Deno.test("resend: the form is offered where a person may need it", async () => {
  await using app = await startTestApp();
  const form = /<form method="post" action="\/activate\/resend"/;
  assert.match((await app.browser().get("/register/done")).body, form);
  assert.match((await app.browser().get("/activate/resend")).body, form);
  const bad = await app.browser().get("/activate/not-a-token");
  assert.equal(bad.status, 400);
  assert.match(bad.body, form);

  await app.browser().register();
  const login = await app.browser().post("/login", {
    email: "ada@example.com",
    password: "correct horse battery",
  });
  // After any failed sign-in: a pending account answers like a wrong
  // password (tests/routes/login_test.ts).
  assert.match(login.body, /once you have opened the link we emailed you/);
  assert.match(login.body, form);
  // The address typed, so one press sends the link.
  assert.match(login.body, /name="email" value="ada@example\.com"/);
});

Deno.test("register: registering again while pending mails a fresh link and keeps the first", async () => {
  await using app = await startTestApp();
  const before = app.browser();
  await before.register();
  const first = await app.activationPath(1);
  app.clock.advance(REGISTER_AGAIN_MAIL_COOLDOWN_MS);
  const again = app.browser();
  await again.register({ first_name: "Again" });
  const second = await app.activationPath(2);
  // Registered twice: only the browser that set the password skips choosing
  // one (tests/routes/register_test.ts has the rest); both links lead there.
  for (const link of [first, second]) {
    const page = await before.post(link);
    assert.equal(page.status, 200);
    assert.match(page.body, /more than once/);
  }
  assert.equal((await again.post(first)).location, "/account");
});

Deno.test("register: registering with an active address tells its owner", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  app.clock.advance(REGISTER_AGAIN_MAIL_COOLDOWN_MS);
  const res = await app.browser().register({ first_name: "Mallory" });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/register/done");
  const mails = await app.mailer.waitFor(2);
  assert.equal(mails[1].to, "ada@example.com");
  assert.match(mails[1].subject, /Someone tried to register/);
  assert.match(mails[1].text, /Hello Ada,/);
  assert.doesNotMatch(mails[1].text, /Mallory/);
  assert.equal(linkPath(mails[1].text, "/password/"), "/password/forgot");
  assert.equal(linkPath(mails[1].html, "/login"), "/login");
});

Deno.test("register: registering again within the cooldown mails nobody and strands nobody", async () => {
  await using app = await startTestApp();
  const first = app.browser();
  await first.register();
  const link = await app.activationPath(1);
  // A double submit, a retry from a phone, or a stranger two seconds later.
  app.clock.advance(300);
  const phone = app.browser();
  const again = await phone.register({ first_name: "Again" });
  assert.equal(again.location, "/register/done");
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, 1);
  // The only mail in the inbox still works, on every device: the browser
  // that registered last signs in at once, any other chooses the password.
  for (const b of [first, app.browser()]) {
    const page = await b.get(link);
    assert.equal(page.status, 200);
    assert.match(page.body, /registered more than once/);
  }
  assert.equal((await phone.post(link)).location, "/account");
});

Deno.test("register: 200 concurrent registrations of one address leave one user and a working link", async () => {
  // Argon2id at its smallest cost: this is about KV races, not hashing.
  await using app = await startTestApp({
    passwords: await createCheapHasher(),
  });
  const browsers = Array.from({ length: 200 }, () => app.browser());
  const answers = await Promise.all(browsers.map((b) => b.register()));
  assert.ok(answers.every((r) => r.status === 303 || r.status === 503));
  await outboxDrained(app);
  assert.equal(await countPrefix(app.kv, keys.users()), 1);
  // One mail (the cooldown merges the rest), and its link is alive.
  assert.equal(app.mailer.sent.length, 1);
  const link = linkPath(app.mailer.sent[0].text, "/activate/");
  const page = await app.browser().get(link);
  assert.equal(page.status, 200);
  assert.match(page.body, /registered more than once/);
  assert.equal(
    (await userByEmail(app.kv, "ada@example.com")).isActivated,
    false,
  );
});

Deno.test("resend: an address may ask once per RESEND_INTERVAL, by page or API, and is told when", async () => {
  await using app = await startTestApp();
  await app.browser().register({ email: "pending@example.com" });
  const b = app.browser();
  const page = () =>
    b.post("/activate/resend", { email: "pending@example.com" });
  const api = (email = "pending@example.com") =>
    b.api("/api/activation/resend", { email });

  assert.equal((await page()).status, 303);
  const again = await page();
  assert.equal(again.status, 429);
  assert.equal(again.headers.get("retry-after"), "60");
  // Not an error: the same form, the address kept, and when.
  assert.match(again.body, /A new link can be sent in 1:00\./);
  assert.match(again.body, /value="pending@example\.com"/);
  assert.doesNotMatch(again.body, /Too many attempts/);
  // The API shares the interval and says the rest of the wait.
  app.clock.advance(45_000);
  const early = await api();
  assert.equal(early.status, 429);
  assert.equal(early.headers.get("retry-after"), "15");
  assert.equal(early.json.error.code, "rate_limited");

  app.clock.advance(15_000);
  const ok = await api();
  assert.equal(ok.status, 202);
  assert.equal(ok.json.retry_after, 60);
  // An address without an account gets the same answer, wait included.
  assert.equal((await api("nobody@example.com")).body, ok.body);
  await outboxDrained(app);
  assert.deepEqual(
    app.mailer.sent.map((m) => m.to),
    Array(3).fill("pending@example.com"),
  );
});

Deno.test("resend: when the address's budget runs out first, the answer waits for it", async () => {
  await using app = await startTestApp({
    env: { RATE_LIMIT_EMAIL: "2/1h", RESEND_INTERVAL: "1s" },
  });
  app.clock.time = Date.UTC(2030, 0, 1, 9, 10); // 50 minutes before 10:00
  const api = () =>
    app.browser().api("/api/activation/resend", { email: "a@example.com" });
  assert.equal((await api()).json.retry_after, 1);
  app.clock.advance(1_000);
  const last = await api();
  assert.equal(last.status, 202);
  assert.equal(last.json.retry_after, 50 * 60 - 1);
  app.clock.advance(1_000);
  const refused = await api();
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), String(50 * 60 - 2));
});
