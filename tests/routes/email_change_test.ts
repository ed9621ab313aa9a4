import assert from "node:assert/strict";
import { getUserByEmail } from "../../lib/accounts/users.ts";
import { listAuditEvents } from "../../lib/accounts/audit.ts";
import { keys } from "../../lib/kv/keys.ts";
import { checkStore } from "../faults/store_check.ts";
import {
  allKeys,
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  outboxDrained,
  startTestApp,
  type TestApp,
  type TestBrowser,
} from "../helpers.ts";

const ADA = "ada@example.com";

/** How allKeys spells the keys of the table `key` belongs to. */
// deno-lint-ignore no-explicit-any
function tablePrefix(key: (...args: any[]) => readonly unknown[]) {
  return `[${JSON.stringify(key("", "", 0)[0])},`;
}
const NEW = "ada.new@example.org";
const NEW_PASSWORD = "a brand new passphrase";

/** Asks for `email` from a signed-in browser; the answer must be the usual. */
async function askChange(
  browser: TestBrowser,
  email: string,
  password = GOOD_PASSWORD,
) {
  const res = await browser.post("/account/email", {
    email,
    current_password: password,
  });
  return res;
}

/** The newest mail to `to` and the path of its link under `prefix`. */
async function mailTo(app: TestApp, to: string, prefix?: string) {
  await outboxDrained(app);
  const mail = app.mailer.sent.findLast((m) => m.to === to);
  if (!mail) throw new Error(`no mail to ${to}`);
  return { mail, path: prefix ? linkPath(mail.text, prefix) : "" };
}

async function confirmPath(app: TestApp, browser: TestBrowser, to = NEW) {
  const res = await askChange(browser, to);
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account/email/sent");
  return (await mailTo(app, to, "/account/email/confirm/")).path;
}

function signIn(app: TestApp, email: string, password = GOOD_PASSWORD) {
  return app.browser().post("/login", { email, password });
}

Deno.test("email change: the new mailbox confirms, the old one hears at once, sessions stay", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  const form = await ada.get("/account/email");
  assert.equal(form.status, 200);
  assert.equal(form.headers.get("cache-control"), "no-store");
  assert.match(form.body, /name="current_password"/);
  assert.match(form.body, /autocomplete="current-password"/);

  const path = await confirmPath(app, ada);
  const { mail } = await mailTo(app, NEW);
  assert.equal(mail.subject, "Confirm your new cloud-user address");
  assert.match(mail.text, /works for 1 hour and only once/);
  assert.match(mail.html, /Confirm the new address/);
  assert.equal((await ada.get("/account/email/sent")).status, 200);

  // Opening the link (a mail scanner, a phone) changes nothing.
  const phone = app.browser();
  const page = await phone.get(path);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  assert.match(page.body, new RegExp(NEW.replace(".", "\\.")));
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );

  // Not signed in there: the account's password too.
  assert.match(page.body, /name="current_password"/);
  const asked = await phone.post(path);
  assert.equal(asked.status, 200);
  assert.match(asked.body, /name="current_password"/);
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );
  const res = await phone.post(path, { current_password: GOOD_PASSWORD });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
  const user = await getUserByEmail(app.kv, NEW, app.clock.now());
  assert.equal(user?.email, NEW);
  assert.equal(await getUserByEmail(app.kv, ADA, app.clock.now()), null);
  assert.equal((await app.kv.get(keys.userByEmail(ADA))).value, null);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);

  // The old address is told, with a way back.
  const notice = await mailTo(app, ADA, "/account/email/undo/");
  assert.equal(
    notice.mail.subject,
    "The address of your cloud-user account was changed",
  );
  assert.match(notice.mail.text, /works for 7 days and only once/);

  // The session Ada had still works and shows the new address.
  const account = await ada.get("/account");
  assert.equal(account.status, 200);
  assert.match(account.body, /ada\.new@example\.org/);
  assert.equal((await signIn(app, NEW)).location, "/account");
  assert.equal((await signIn(app, ADA)).status, 400);
  // The link worked once.
  assert.equal((await phone.post(path)).status, 400);
  // A security event says so (newer ones are the sign-ins above).
  const events = await listAuditEvents(app.kv, user!.id);
  assert.deepEqual(
    events.filter((e) => e.type === "email_changed").length,
    1,
  );
});

Deno.test("email change: a taken address answers like a free one, and its owner is told", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  await createActiveAccount(app, { email: "bob@example.com" });
  await outboxDrained(app);
  const before = app.mailer.sent.length;
  const keysBefore = await allKeys(app.kv);

  const taken = await askChange(ada, "bob@example.com");
  // The work runs after the answer; a request replaces the one before it.
  await outboxDrained(app);
  const free = await askChange(ada, "free@example.com");
  assert.equal(taken.status, free.status);
  assert.equal(taken.location, free.location);
  assert.equal(taken.body, free.body);

  await outboxDrained(app);
  const sent = app.mailer.sent.slice(before);
  assert.deepEqual(sent.map((m) => m.to).sort(), [
    "bob@example.com",
    "free@example.com",
  ]);
  const told = sent.find((m) => m.to === "bob@example.com")!;
  assert.equal(told.subject, "Someone tried to use your address at cloud-user");
  assert.doesNotMatch(told.text, /\/account\/email\/confirm\//);
  // Bob's account and Ada's are as they were; only the free request waits.
  const added = (await allKeys(app.kv)).filter((k) => !keysBefore.includes(k));
  assert.ok(added.some((k) => k.startsWith(tablePrefix(keys.emailChange))));
  assert.equal(
    (await getUserByEmail(app.kv, "bob@example.com", app.clock.now()))
      ?.firstName,
    "Ada",
  );
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );
});

Deno.test("email change: a wrong password or the same address is a field error, nothing written", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  await outboxDrained(app);
  const before = await allKeys(app.kv);
  const cases = [
    {
      email: NEW,
      password: "not my password at all",
      field: "current_password",
    },
    { email: ADA, password: GOOD_PASSWORD, field: "email" },
    { email: "not an address", password: GOOD_PASSWORD, field: "email" },
    { email: NEW, password: "", field: "current_password" },
  ];
  for (const { email, password, field } of cases) {
    const res = await askChange(ada, email, password);
    assert.equal(res.status, 422, `${email} / ${password}`);
    assert.match(res.body, new RegExp(`id="field-${field}-error"`));
    assert.doesNotMatch(res.body, new RegExp(password || "^$"));
  }
  await outboxDrained(app);
  // Only the sign-in limit's bookkeeping was written; no request, no mail.
  const added = (await allKeys(app.kv)).filter((k) => !before.includes(k));
  assert.ok(
    added.every((k) =>
      [
        tablePrefix(keys.rateLimit),
        tablePrefix(keys.loginFailure),
        tablePrefix(keys.cooldown),
      ].some((prefix) => k.startsWith(prefix))
    ),
    added.join("\n"),
  );
  assert.equal(app.mailer.sent.length, 1);
});

Deno.test("email change: signed out, the pages send to /login", async () => {
  await using app = await startTestApp();
  const browser = app.browser();
  assert.equal((await browser.get("/account/email")).location, "/login");
  const res = await browser.post("/account/email", {
    email: NEW,
    current_password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/login");
});

Deno.test("email change: a newer request, or a change of address since, kills a link", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  const first = await confirmPath(app, ada, "one@example.org");
  app.clock.advance(61_000); // past RESEND_INTERVAL
  const second = await confirmPath(app, ada, "two@example.org");
  assert.equal((await ada.get(first)).status, 400);
  assert.equal((await ada.post(first)).status, 400);
  assert.equal((await ada.post(second)).location, "/account");
  // A request made before the address changed, then confirmed after it:
  app.clock.advance(61_000);
  const third = await confirmPath(app, ada, "three@example.org");
  // ... the account moves on some other way (undo, here), and the link dies.
  const undo = (await mailTo(app, ADA, "/account/email/undo/")).path;
  const back = await app.browser().post(undo, {
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(back.location, "/account");
  const dead = await app.browser().post(third);
  assert.equal(dead.status, 400);
  assert.match(dead.body, /This link does not work/);
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );
});

Deno.test("email change: a link expires after EMAIL_CHANGE_MAX_AGE", async () => {
  await using app = await startTestApp({
    env: { EMAIL_CHANGE_MAX_AGE: "15m" },
  });
  const ada = await createActiveAccount(app);
  const path = await confirmPath(app, ada);
  assert.match(
    app.mailer.sent.findLast((m) => m.to === NEW)!.text,
    /works for 15 minutes/,
  );
  app.clock.advance(15 * 60_000 + 1);
  const res = await ada.post(path);
  assert.equal(res.status, 400);
  assert.match(res.body, /This link has expired/);
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );
});

Deno.test("email change: an address taken after the request is not taken over (409)", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  const path = await confirmPath(app, ada);
  // Someone registers the new address before the link is opened.
  await app.browser().register({ email: NEW });
  await outboxDrained(app);
  const before = await allKeys(app.kv);
  const res = await ada.post(path);
  assert.equal(res.status, 409);
  assert.match(res.body, /This address is taken/);
  assert.deepEqual(await allKeys(app.kv), before);
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );
});

Deno.test("email change: undo restores the address, ends every session, asks for a new password, once", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  const thief = app.browser();
  await thief.post("/login", { email: ADA, password: GOOD_PASSWORD });
  const path = await confirmPath(app, thief, "thief@evil.test");
  assert.equal((await thief.post(path)).location, "/account");
  const undo = (await mailTo(app, ADA, "/account/email/undo/")).path;

  const mailbox = app.browser();
  const page = await mailbox.get(undo);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("cache-control"), "no-store");
  assert.match(page.body, /name="password_confirm"/);
  assert.match(page.body, /ada@example\.com/);
  // The GET changed nothing.
  assert.equal(
    (await getUserByEmail(app.kv, "thief@evil.test", app.clock.now()))?.email,
    "thief@evil.test",
  );

  const mismatch = await mailbox.post(undo, {
    password: NEW_PASSWORD,
    password_confirm: "something else entirely",
  });
  assert.equal(mismatch.status, 422);

  const res = await mailbox.post(undo, {
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
  assert.match(
    (await mailbox.get("/account")).body,
    /Your address is restored/,
  );
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );
  assert.equal(
    await getUserByEmail(app.kv, "thief@evil.test", app.clock.now()),
    null,
  );
  // Every other session is over, the thief's too; only the new one is left.
  assert.equal((await thief.get("/account")).location, "/login");
  assert.equal((await ada.get("/account")).location, "/login");
  assert.equal(await countPrefix(app.kv, [keys.session("")[0]]), 1);
  // The password the thief knew is gone.
  assert.equal((await signIn(app, ADA)).status, 400);
  assert.equal((await signIn(app, ADA, NEW_PASSWORD)).location, "/account");
  // Once.
  assert.equal((await app.browser().get(undo)).status, 400);
  assert.equal(await countPrefix(app.kv, [keys.emailUndos("")[0]]), 0);
  // Two security events: the address came back, the password was set anew.
  const user = await getUserByEmail(app.kv, ADA, app.clock.now());
  const types = (await listAuditEvents(app.kv, user!.id)).map((e) => e.type);
  assert.deepEqual(types.filter((t) => t !== "signed_in").slice(0, 2).sort(), [
    "email_changed",
    "password_reset",
  ]);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
});

Deno.test("email change: undo of the first of two changes takes the account back", async () => {
  await using app = await startTestApp();
  const thief = await createActiveAccount(app);
  assert.equal(
    (await thief.post(await confirmPath(app, thief, "b@evil.test"))).status,
    303,
  );
  const undoA = (await mailTo(app, ADA, "/account/email/undo/")).path;
  app.clock.advance(61_000);
  assert.equal(
    (await thief.post(await confirmPath(app, thief, "c@evil.test"))).status,
    303,
  );
  const undoB = (await mailTo(app, "b@evil.test", "/account/email/undo/")).path;

  const res = await app.browser().post(undoA, {
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.location, "/account");
  assert.equal(
    (await getUserByEmail(app.kv, ADA, app.clock.now()))?.email,
    ADA,
  );
  // The later change's undo link died with it: the thief cannot undo back.
  assert.equal((await app.browser().get(undoB)).status, 400);
});

Deno.test("email change: undo refuses an old address someone took since (409), changing nothing", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  assert.equal((await ada.post(await confirmPath(app, ada))).status, 303);
  const undo = (await mailTo(app, ADA, "/account/email/undo/")).path;
  await app.browser().register({ email: ADA });
  await outboxDrained(app);
  const before = await allKeys(app.kv);
  const res = await app.browser().post(undo, {
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.status, 409);
  assert.match(res.body, /cannot be restored/);
  // Only the hash turn's own bookkeeping may have come and gone.
  const after = (await allKeys(app.kv)).filter((k) =>
    !k.startsWith(tablePrefix(keys.rateLimit))
  );
  assert.deepEqual(
    after,
    before.filter((k) => !k.startsWith(tablePrefix(keys.rateLimit))),
  );
  assert.equal((await ada.get("/account")).status, 200);
});

Deno.test("email change: the new mailbox's limits hold across spellings (429 + Retry-After)", async () => {
  await using app = await startTestApp({
    env: { RATE_LIMIT_EMAIL: "5/15m", RESEND_INTERVAL: "60s" },
  });
  const ada = await createActiveAccount(app);
  assert.equal((await askChange(ada, "new@example.org")).status, 303);
  const again = await askChange(ada, "New+2@example.org");
  assert.equal(again.status, 429);
  assert.ok(Number(again.headers.get("retry-after")) > 0);
  assert.match(again.body, /value="new\+2@example\.org"/);
  await outboxDrained(app);
  assert.equal(
    app.mailer.sent.filter((m) => /example\.org$/.test(m.to)).length,
    1,
  );
});

Deno.test("email change: mails and pages in Russian", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app, {});
  ada.cookies.set("lang", "ru");
  const form = await ada.get("/account/email");
  assert.match(form.body, /Смена адреса почты/);
  // The mail goes in the language the person registered in (English here);
  // a Russian account gets Russian mail.
  const ru = app.browser();
  ru.cookies.set("lang", "ru");
  const before = app.mailer.sent.length;
  await ru.register({ email: "ivan@example.com" });
  const activation = await app.activationPath(before + 1);
  assert.equal((await ru.post(activation)).status, 303);
  const path = await confirmPath(app, ru, "ivan@example.org");
  assert.equal(
    app.mailer.sent.findLast((m) => m.to === "ivan@example.org")!.subject,
    "Подтвердите новый адрес в cloud-user",
  );
  assert.match((await ru.get(path)).body, /Подтвердите новый адрес/);
});

Deno.test("email change: a reset link mailed to the old address dies with the change", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  await app.browser().post("/password/forgot", { email: ADA });
  const reset = (await mailTo(app, ADA, "/password/reset/")).path;
  assert.equal((await ada.post(await confirmPath(app, ada))).status, 303);
  const res = await app.browser().post(reset, {
    password: NEW_PASSWORD,
    password_confirm: NEW_PASSWORD,
  });
  assert.equal(res.status, 400);
  assert.equal((await signIn(app, NEW)).location, "/account");
});

Deno.test("email change: a link someone sends you does not move his account to your address", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  const mallory = await createActiveAccount(app, {
    email: "mallory@evil.test",
    password: "raven lantern 6602",
    password_confirm: "raven lantern 6602",
  });
  // Mallory asks for ada.new@, a free address whose mailbox is Ada's.
  const res = await mallory.post("/account/email", {
    email: NEW,
    current_password: "raven lantern 6602",
  });
  assert.equal(res.status, 303);
  const path = (await mailTo(app, NEW, "/account/email/confirm/")).path;
  // Ada opens it signed in to her own account: the page wants the
  // password of the account the link is for, and hers is not it.
  const page = await ada.get(path);
  assert.match(page.body, /name="current_password"/);
  assert.equal((await ada.post(path)).status, 200);
  const wrong = await ada.post(path, { current_password: GOOD_PASSWORD });
  assert.equal(wrong.status, 422);
  assert.match(wrong.body, /That is not your current password/);
  assert.equal(await getUserByEmail(app.kv, NEW, app.clock.now()), null);
});
