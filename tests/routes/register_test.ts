import assert from "node:assert/strict";
import { REGISTER_AGAIN_MAIL_COOLDOWN_MS } from "../../lib/accounts/accounts.ts";
import {
  allKeys,
  countPrefix,
  GOOD_PASSWORD,
  linkPath,
  startTestApp,
} from "../helpers.ts";
import type { User } from "../../lib/accounts/users.ts";
import { keys } from "../../lib/kv/keys.ts";

Deno.test("register: the form has every field and works without JavaScript", async () => {
  await using app = await startTestApp();
  const res = await app.browser().get("/register");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  for (const name of ["first_name", "email", "password", "password_confirm"]) {
    assert.match(res.body, new RegExp(`<label for="field-${name}">`));
    assert.match(res.body, new RegExp(`name="${name}"`));
  }
  assert.match(res.body, /<form method="post" action="\/register"/);
});

Deno.test("register: a valid form stores a pending user and mails a link", async () => {
  await using app = await startTestApp();
  const res = await app.browser().register({ email: "  Ada@Example.COM " });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/register/done");

  const index = await app.kv.get<string>(keys.userByEmail("ada@example.com"));
  assert.ok(index.value, "the email index points at the user");
  const user = (await app.kv.get<User>(keys.user(index.value))).value!;
  assert.equal(user.firstName, "Ada");
  assert.equal(user.email, "ada@example.com");
  assert.equal(user.isActivated, false);
  assert.equal(user.isActive, false);
  assert.match(user.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.ok(!user.passwordHash.includes(GOOD_PASSWORD));

  const [mail] = await app.mailer.waitFor(1);
  assert.equal(mail.to, "ada@example.com");
  assert.equal(mail.subject, "Activate your cloud-user account");
  assert.match(mail.text, /Hello Ada,/);
  assert.match(mail.text, /http:\/\/app\.test\/activate\/[\w-]+\.[\w-]+/);
  assert.match(mail.html, /href="http:\/\/app\.test\/activate\//);
  // Delivered through the queue, the outbox entry is gone afterwards.
  await waitUntil(async () => await countPrefix(app.kv, keys.outbox()) === 0);
});

Deno.test("register: the done page tells the person to check their inbox", async () => {
  await using app = await startTestApp();
  const res = await app.browser().get("/register/done");
  assert.equal(res.status, 200);
  assert.match(res.body, /Check your inbox/);
  assert.match(res.body, /3 days/);
});

const INVALID: [string, Record<string, string>, string, RegExp][] = [
  [
    "empty first name",
    { first_name: "   " },
    "first_name",
    /Enter your first name/,
  ],
  [
    "first name too long",
    { first_name: "a".repeat(151) },
    "first_name",
    /at most 150/,
  ],
  [
    "control character in name",
    { first_name: "Ada\u0000" },
    "first_name",
    /Use letters, spaces and/,
  ],
  ["missing email", { email: "" }, "email", /Enter your email address/],
  ["malformed email", { email: "ada@" }, "email", /like name@example\.com/],
  ["email too long", { email: `${"a".repeat(250)}@x.io` }, "email", /too long/],
  [
    "short password",
    { password: "short1!", password_confirm: "short1!" },
    "password",
    /at least 10/,
  ],
  [
    "long password",
    { password: "a1!".repeat(43), password_confirm: "a1!".repeat(43) },
    "password",
    /at most 128/,
  ],
  [
    "common password",
    { password: "password123", password_confirm: "password123" },
    "password",
    /most common/,
  ],
  [
    "repetitive password",
    { password: "aaaaaaaaaaaa", password_confirm: "aaaaaaaaaaaa" },
    "password",
    /more different/,
  ],
  [
    "keyboard run",
    { password: "qwertyuiopas", password_confirm: "qwertyuiopas" },
    "password",
    /run of keys/,
  ],
  [
    "password built from the email",
    {
      email: "margaret@example.com",
      password: "margaret12",
      password_confirm: "margaret12",
    },
    "password",
    /name or email/,
  ],
  [
    "mismatched confirmation",
    { password_confirm: "something else entirely" },
    "password_confirm",
    /do not match/,
  ],
];

for (const [what, fields, field, message] of INVALID) {
  Deno.test(`register: ${what} re-renders the form with a message and writes nothing`, async () => {
    await using app = await startTestApp();
    const res = await app.browser().register(fields);
    assert.equal(res.status, 422);
    assert.match(res.body, message);
    // The message is tied to its field for assistive technology.
    assert.match(
      res.body,
      new RegExp(`id="field-${field}"[^>]*aria-invalid="true"`),
    );
    assert.match(res.body, new RegExp(`id="field-${field}-error"`));
    // Values are kept, the password never comes back.
    if (fields.first_name === undefined) assert.match(res.body, /value="Ada"/);
    assert.ok(!res.body.includes(fields.password ?? GOOD_PASSWORD));
    assert.deepEqual(await allKeys(app.kv), []);
    assert.equal(app.mailer.sent.length, 0);
  });
}

Deno.test("register: missing fields are errors, not crashes", async () => {
  await using app = await startTestApp();
  const res = await app.browser().post("/register", {});
  assert.equal(res.status, 422);
  assert.match(res.body, /Enter your first name/);
  assert.match(res.body, /Enter your email address/);
  assert.match(res.body, /Enter a password/);
  assert.deepEqual(await allKeys(app.kv), []);
});

Deno.test("register: a pending address registered again takes the latest credentials", async () => {
  await using app = await startTestApp();
  const first = await app.browser().register();
  await app.mailer.waitFor(1);
  await waitUntil(async () => await countPrefix(app.kv, keys.outbox()) === 0);
  const index = await app.kv.get<string>(keys.userByEmail("ada@example.com"));
  const before = (await app.kv.get<User>(keys.user(index.value!))).value!;

  app.clock.advance(REGISTER_AGAIN_MAIL_COOLDOWN_MS);
  const second = await app.browser().register({
    first_name: "Eve",
    email: "ADA@example.com",
    password: "another good passphrase",
    password_confirm: "another good passphrase",
  });
  assert.equal(second.status, first.status);
  assert.equal(second.location, first.location);
  assert.equal(second.body, first.body);
  // Both answers set the same cookie, so they cannot be told apart.
  assert.deepEqual(
    second.headers.getSetCookie().map((c) => c.replace(/=[^;]*/, "=…")),
    first.headers.getSetCookie().map((c) => c.replace(/=[^;]*/, "=…")),
  );
  const after = (await app.kv.get<User>(keys.user(index.value!))).value!;
  // Nobody proved the address yet: the latest registration's name and
  // password stand (a first registrant must not keep a password the address's
  // owner never chose). Links already mailed keep working: outside the
  // browser that registered last they ask for a new password anyway.
  assert.equal(after.id, before.id);
  assert.equal(after.firstName, "Eve");
  assert.notEqual(after.passwordHash, before.passwordHash);
  assert.equal(after.tokenVersion, before.tokenVersion);
  assert.equal(after.contested, true);
  assert.equal(await countPrefix(app.kv, keys.users()), 1);
  // The address's owner gets the fresh link, addressed by the new name.
  const mails = await app.mailer.waitFor(2);
  assert.equal(mails[1].to, "ada@example.com");
  assert.match(mails[1].text, /Hello Eve,/);
});

Deno.test("register: an attacker who registers a victim's address first cannot sign in later", async () => {
  await using app = await startTestApp();
  const attacker = app.browser();
  const ATTACKER_PW = "mallory knows this one";
  const VICTIM_PW = "victims own secret phrase";
  await attacker.register({
    email: "victim@example.com",
    password: ATTACKER_PW,
    password_confirm: ATTACKER_PW,
  });
  await app.mailer.waitFor(1); // the victim ignores this unexpected mail
  app.clock.advance(3 * 60_000);
  const victim = app.browser();
  await victim.register({
    email: "victim@example.com",
    password: VICTIM_PW,
    password_confirm: VICTIM_PW,
  });
  const mails = await app.mailer.waitFor(2);
  assert.equal(
    (await victim.post(linkPath(mails[1].text, "/activate/"))).location,
    "/account",
  );
  // The victim's password is the account's; the attacker's is not.
  const login = (password: string) =>
    app.browser().post("/login", { email: "victim@example.com", password });
  assert.equal((await login(VICTIM_PW)).location, "/account");
  assert.equal((await login(ATTACKER_PW)).status, 400);
});

Deno.test("register: an attacker who registers a pending address again cannot sign in after the owner activates", async () => {
  await using app = await startTestApp();
  const VICTIM_PW = "victims own secret phrase";
  const ATTACKER_PW = "mallory knows this one";
  const NEW_PW = "chosen at activation time";
  const victim = app.browser();
  await victim.register({
    email: "victim@example.com",
    password: VICTIM_PW,
    password_confirm: VICTIM_PW,
  });
  await app.mailer.waitFor(1);
  // Within the cooldown: no new mail, and the record holds the attacker's
  // password; the victim's link still works, but asks for a new password.
  const attacker = app.browser();
  await attacker.register({
    email: "victim@example.com",
    password: ATTACKER_PW,
    password_confirm: ATTACKER_PW,
  });
  const first = await victim.post(
    linkPath(app.mailer.sent[0].text, "/activate/"),
  );
  assert.equal(first.status, 200);
  assert.match(first.body, /registered more than once/);
  assert.doesNotMatch(first.body, /name="current_password"/);
  // "Didn't get the email?" from the victim's own mailbox.
  app.clock.advance(60_000);
  await victim.post("/activate/resend", { email: "victim@example.com" });
  const link = linkPath((await app.mailer.waitFor(2))[1].text, "/activate/");

  // Her browser did not set the current password: she must choose one.
  const page = await victim.get(link);
  assert.equal(page.status, 200);
  assert.match(page.body, /registered more than once/);
  assert.match(
    page.body,
    /name="password"[^>]*autocomplete="new-password"|autocomplete="new-password"[^>]*name="password"/,
  );
  assert.doesNotMatch(page.body, /data-auto-submit/);
  // The one button alone activates nothing.
  const bare = await victim.post(link);
  assert.equal(bare.status, 200);
  assert.match(bare.body, /registered more than once/);
  const short = await victim.post(link, {
    password: "short",
    password_confirm: "short",
  });
  assert.equal(short.status, 422);
  const index = await app.kv.get<string>([
    "users_by_email",
    "victim@example.com",
  ]);
  assert.equal(
    (await app.kv.get<User>(keys.user(index.value!))).value!.isActivated,
    false,
  );
  const done = await victim.post(link, {
    password: NEW_PW,
    password_confirm: NEW_PW,
  });
  assert.equal(done.location, "/account");
  assert.equal((await victim.get("/account")).status, 200);
  const user = (await app.kv.get<User>(keys.user(index.value!))).value!;
  assert.equal(user.isActivated, true);
  assert.equal(user.contested, undefined);
  assert.equal(user.registrant, undefined);

  const login = (password: string) =>
    app.browser().post("/login", { email: "victim@example.com", password });
  assert.equal((await login(ATTACKER_PW)).status, 400);
  assert.equal((await login(VICTIM_PW)).status, 400);
  assert.equal((await login(NEW_PW)).location, "/account");
});

Deno.test("register: the browser that registered a contested address last activates it as usual", async () => {
  await using app = await startTestApp();
  const PW = "second thoughts passphrase";
  await app.browser().register();
  await app.mailer.waitFor(1);
  app.clock.advance(REGISTER_AGAIN_MAIL_COOLDOWN_MS);
  const again = app.browser();
  await again.register({ password: PW, password_confirm: PW });
  const link = await app.activationPath(2);
  // Its own browser: the usual page, submitting itself.
  assert.match((await again.get(link)).body, /data-auto-submit/);
  assert.equal((await again.post(link)).location, "/account");
  const login = await app.browser().post("/login", {
    email: "ada@example.com",
    password: PW,
  });
  assert.equal(login.location, "/account");
});

Deno.test("register: a password sent from the registering browser's activation is ignored", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const link = await app.activationPath(1);
  const res = await owner.tab().post(link, {
    password: "not asked for at all",
    password_confirm: "not asked for at all",
  });
  assert.equal(res.location, "/account");
  const login = (password: string) =>
    app.browser().post("/login", { email: "ada@example.com", password });
  assert.equal((await login(GOOD_PASSWORD)).location, "/account");
  assert.equal((await login("not asked for at all")).status, 400);
  // A used link with a password: already active, nothing replaced.
  const again = await app.browser().post(link, {
    password: "not asked for at all",
    password_confirm: "not asked for at all",
  });
  assert.equal(again.location, "/login?activated=1");
  assert.equal((await login(GOOD_PASSWORD)).location, "/account");
});

Deno.test("register: an active address registered again keeps its owner's account", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  await owner.post(await app.activationPath(1));
  const index = await app.kv.get<string>(keys.userByEmail("ada@example.com"));
  const before = (await app.kv.get<User>(keys.user(index.value!))).value!;
  app.clock.advance(REGISTER_AGAIN_MAIL_COOLDOWN_MS);
  await app.browser().register({
    first_name: "Eve",
    password: "another good passphrase",
    password_confirm: "another good passphrase",
  });
  await app.mailer.waitFor(2);
  const after = (await app.kv.get<User>(keys.user(index.value!))).value!;
  assert.equal(after.firstName, "Ada");
  assert.equal(after.passwordHash, before.passwordHash);
});

Deno.test("register: a form posted from another site is refused", async () => {
  await using app = await startTestApp();
  const res = await app.browser().request("POST", "/register", {
    form: {
      first_name: "Mallory",
      email: "m@example.com",
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
    },
    headers: { origin: "https://attacker.example.com" },
  });
  assert.equal(res.status, 403);
  assert.equal(
    await app.kv.get(keys.userByEmail("m@example.com")).then((e) => e.value),
    null,
  );
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("register: the page rendered once shows no visitor's query to the next", async () => {
  await using app = await startTestApp();
  const first = await app.browser().get("/register?ref=private-campaign-42");
  assert.equal(first.status, 200);
  const second = await app.browser().get("/register");
  for (const res of [first, second]) {
    assert.doesNotMatch(res.body, /private-campaign-42/);
    assert.match(res.body, /name="next" value="\/register"/);
  }
});

Deno.test("register: a first name carrying a link is refused on the page and by the API, nothing saved", async () => {
  await using app = await startTestApp();
  const phishing =
    "customer. Your account is locked. Verify now at https://evil.example/…";
  for (const name of [phishing, "Ada\u202Eevil", "\u200B\u200B"]) {
    const page = await app.browser().register({ first_name: name });
    assert.equal(page.status, 422);
    assert.match(page.body, /id="field-first_name"[^>]*aria-invalid="true"/);
    assert.match(page.body, /Use letters, spaces and/);
    const api = await app.browser().api("/api/register", {
      first_name: name,
      email: "ada@example.com",
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
    });
    assert.equal(api.status, 422);
    assert.equal(api.json.error.fields.first_name.code, "first_name.invalid");
  }
  assert.deepEqual(await allKeys(app.kv), []);
  assert.equal(app.mailer.sent.length, 0);
});

Deno.test("register: the done page shows the address the mail went to, with a way back", async () => {
  await using app = await startTestApp();
  const b = app.browser();
  const res = await b.register({ email: " Ada.Lovelace@Example.com " });
  assert.equal(res.status, 303);
  const done = await b.get(res.location!);
  assert.equal(done.status, 200);
  assert.match(
    done.body,
    /We are sending an email to <strong class="address">ada\.lovelace@example\.com<\/strong>\./,
  );
  assert.match(
    done.body,
    /Wrong address\? <a href="\/register">Start again<\/a>/,
  );
  // The resend form below already knows the address.
  assert.match(
    done.body,
    /name="email" type="email" value="ada\.lovelace@example\.com"/,
  );
  // Another browser, or a planted value that is no address, learns nothing.
  const other = await app.browser().get("/register/done");
  assert.match(other.body, /sending an email to the address you gave/);
  const planted = app.browser();
  planted.cookies.set("sent_to", "%3Cb%3Ex");
  assert.match(
    (await planted.get("/register/done")).body,
    /the address you gave/,
  );
});
