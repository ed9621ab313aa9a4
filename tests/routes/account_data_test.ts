// /account/export and /account/delete, through real HTTP on a real app.
import { keys } from "../../lib/kv/keys.ts";
import {
  type DeadLetter,
  GOODBYE_DEAD_LETTER_TTL_MS,
} from "../../lib/outbox/signals.ts";
import assert from "node:assert/strict";
import { createCheapHasher } from "../model/cheap_hasher.ts";
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
  waitUntil,
} from "../helpers.ts";

async function testApp(env: Record<string, string> = {}) {
  return await startTestApp({ env, passwords: await createCheapHasher() });
}

/** Asks to delete with the password; returns the mailed link's path. */
async function deletionLink(app: TestApp, browser: TestBrowser) {
  const before = app.mailer.sent.length;
  const res = await browser.post("/account/delete", {
    current_password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account/delete/sent");
  const mails = await app.mailer.waitFor(before + 1);
  return linkPath(mails[before].text, "/account/delete/");
}

/** Every stored record, as text, for "nothing names her" checks. */
async function storeText(kv: Deno.Kv): Promise<string> {
  const lines = [];
  for await (const e of kv.list({ prefix: [] })) {
    lines.push(
      JSON.stringify(
        { key: e.key, value: e.value },
        (_k, v) => typeof v === "bigint" ? String(v) : v,
      ),
    );
  }
  return lines.join("\n").toLowerCase();
}

Deno.test("account export: a download of the profile, sessions, mails and limits, never a hash or token", async () => {
  await using app = await testApp();
  const browser = await createActiveAccount(app);
  // A sign-in elsewhere: a second session and a security event.
  await app.browser().post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  // A wrong password and a reset request: records keyed by her address
  // (after the sign-in, which clears failed attempts).
  await app.browser().post("/login", {
    email: "ada@example.com",
    password: "not the password at all",
  });
  await app.browser().post("/password/forgot", { email: "ada@example.com" });
  await outboxDrained(app);

  assert.equal((await app.browser().get("/account/export")).location, "/login");
  const res = await browser.get("/account/export");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  assert.match(
    res.headers.get("content-disposition")!,
    /^attachment; filename="cloud-user-data-\d{4}-\d\d-\d\d\.json"$/,
  );
  assert.equal(res.headers.get("cache-control"), "no-store");
  const data = JSON.parse(res.body);
  assert.equal(data.format, "cloud-user-personal-data");
  const [profile] = data.records.users;
  assert.equal(profile.email, "ada@example.com");
  assert.equal(profile.firstName, "Ada");
  assert.equal(data.records.sessions.length, 2);
  assert.ok(data.records.sessions[0].expiresAt > app.clock.now());
  // Sessions with their devices; the security events.
  assert.ok(data.records.sessions.every((s: { client?: unknown }) => s.client));
  assert.ok(
    data.records.audit_events.some((e: { type: string }) =>
      e.type === "signed_in"
    ),
  );
  const limits = JSON.stringify(data.records.rate_limits);
  assert.match(limits, /forgot:email/);
  assert.match(JSON.stringify(data.records.login_attempts), /"count":1/);
  assert.equal(data.records.login_failures.length, 1);
  assert.equal(data.records.cooldowns.length, 1);
  // Never a hash, the cookie, its digest, or a link.
  assert.doesNotMatch(res.body, /argon2|passwordHash|registrant/i);
  assert.ok(!res.body.includes(browser.cookies.get("session")!));
  for (const key of await allKeys(app.kv)) {
    if (key.startsWith('["sessions"')) {
      assert.ok(!res.body.includes(JSON.parse(key)[1]));
    }
  }
  assert.doesNotMatch(res.body, /\/activate\/|\/password\/reset\//);
});

Deno.test("account export: a pending mail shows what it is, not its link", async () => {
  // No queue: the failed attempt waits for its retry, unrepeated.
  await using app = await testApp({ SIGNAL_QUEUE: "none" });
  const browser = await createActiveAccount(app);
  await outboxDrained(app);
  app.mailer.failNext(1);
  await browser.post("/account/delete", { current_password: GOOD_PASSWORD });
  await waitUntil(async () => {
    for await (
      const e of app.kv.list<{ attempts: number }>({ prefix: keys.outbox() })
    ) {
      if (e.value.attempts > 0) return true;
    }
    return false;
  });
  const data = JSON.parse((await browser.get("/account/export")).body);
  const mails = [...data.records.outbox, ...data.records.outbox_dead];
  // Waiting for its retry: what it is and how it goes, and no link (none
  // is stored: links are made when the mail is sent).
  assert.equal(mails.length, 1);
  assert.equal(mails[0].attempts, 1);
  for (const mail of mails) {
    assert.equal(mail.mail, "account_deletion_requested");
    assert.deepEqual(Object.keys(mail).sort(), [
      "attempts",
      "createdAt",
      "id",
      "lastAttemptAt",
      "lastError",
      "mail",
    ]);
  }
});

Deno.test("account delete: the password, then the mailed link, then nothing names the address", async () => {
  await using app = await testApp();
  const browser = await createActiveAccount(app, {
    email: "ada+news@example.com",
  });
  const elsewhere = app.browser();
  await elsewhere.post("/login", {
    email: "ada+news@example.com",
    password: GOOD_PASSWORD,
  });

  const form = await browser.get("/account/delete");
  assert.equal(form.status, 200);
  assert.match(form.body, /name="current_password"/);
  assert.match(form.body, /ada\+news@example\.com/);

  const path = await deletionLink(app, browser);
  const mail = app.mailer.sent.at(-1)!;
  assert.equal(mail.to, "ada+news@example.com");
  assert.equal(mail.subject, "Confirm deleting your cloud-user account");
  assert.match(mail.text, /works for 1 hour/);
  const sent = await browser.get("/account/delete/sent");
  assert.match(sent.body, /Check your inbox/);

  // Opening the link (a mail scanner does) changes nothing.
  const page = await app.browser().get(path);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("cache-control"), "no-store");
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  assert.match(page.body, /ada\+news@example\.com/);
  assert.match(page.body, new RegExp(`action="${path}"`));
  assert.equal(await countPrefix(app.kv, keys.users()), 1);

  const done = await browser.post(path);
  assert.equal(done.status, 303);
  assert.equal(done.location, "/account/deleted");
  assert.equal(browser.cookies.has("session"), false);
  assert.match((await browser.get("/account/deleted")).body, /is deleted/);
  assert.equal((await elsewhere.get("/account")).location, "/login");

  const goodbye = (await app.mailer.waitFor(3))[2];
  assert.equal(goodbye.to, "ada+news@example.com");
  assert.equal(goodbye.subject, "Your cloud-user account is deleted");
  await outboxDrained(app);
  const store = await storeText(app.kv);
  assert.ok(!store.includes("ada+news@example.com"), store);
  assert.ok(!store.includes("ada@example.com"), store);
  assert.equal(await countPrefix(app.kv, keys.users()), 0);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);

  // The link is spent; the address is free again at once.
  assert.equal((await app.browser().get(path)).status, 400);
  assert.equal((await app.browser().post(path)).status, 400);
  const again = await createActiveAccount(app, {
    email: "ada+news@example.com",
    first_name: "Adele",
  });
  assert.match((await again.get("/account")).body, /Adele/);
});

Deno.test("account delete: a session without the password asks for it and sends nothing", async () => {
  await using app = await testApp();
  const browser = await createActiveAccount(app);
  await outboxDrained(app);
  const before = app.mailer.sent.length;
  const keysBefore = await allKeys(app.kv);
  for (
    const form of [{}, { current_password: "" }] as Record<string, string>[]
  ) {
    const res = await browser.post("/account/delete", form);
    assert.equal(res.status, 422);
    assert.match(res.body, /Enter your current password/);
  }
  const wrong = await browser.post("/account/delete", {
    current_password: "a guess at the password",
  });
  assert.equal(wrong.status, 422);
  assert.match(wrong.body, /That is not your current password/);
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, before);
  // Only limit counters moved: no mail queued, nothing deleted.
  const changed = (await allKeys(app.kv)).filter((k) =>
    !keysBefore.includes(k)
  );
  assert.ok(
    changed.every((k) =>
      /^\["(rate_limits|login_failures|login_attempts)"/.test(k)
    ),
    changed.join("\n"),
  );
  assert.equal((await app.browser().get("/account/delete")).location, "/login");
  assert.equal(
    (await app.browser().post("/account/delete", {
      current_password: GOOD_PASSWORD,
    })).location,
    "/login",
  );
});

Deno.test("account delete: a password change kills the link; an old link expires", async () => {
  await using app = await testApp();
  const browser = await createActiveAccount(app);
  const path = await deletionLink(app, browser);
  const changed = await browser.post("/account/password", {
    current_password: GOOD_PASSWORD,
    password: "another good passphrase",
    password_confirm: "another good passphrase",
  });
  assert.equal(changed.status, 303);
  for (const res of [await app.browser().get(path), await browser.post(path)]) {
    assert.equal(res.status, 400);
    assert.match(res.body, /This link does not work/);
  }
  assert.equal(await countPrefix(app.kv, keys.users()), 1);

  app.clock.advance(61_000); // past RESEND_INTERVAL
  const before = app.mailer.sent.length;
  await browser.post("/account/delete", {
    current_password: "another good passphrase",
  });
  const late = linkPath(
    (await app.mailer.waitFor(before + 1))[before].text,
    "/account/delete/",
  );
  app.clock.advance(3_600_001);
  const res = await browser.post(late);
  assert.equal(res.status, 400);
  assert.match(res.body, /This link has expired/);
  assert.equal(await countPrefix(app.kv, keys.users()), 1);
});

Deno.test("account delete: one mail per RESEND_INTERVAL; password guesses meet the sign-in limits", async () => {
  await using app = await testApp({ RATE_LIMIT_EMAIL: "5/15m" });
  const browser = await createActiveAccount(app);
  await deletionLink(app, browser);
  const again = await browser.post("/account/delete", {
    current_password: GOOD_PASSWORD,
  });
  assert.equal(again.status, 429);
  assert.ok(Number(again.headers.get("retry-after")) > 0);
  app.clock.advance(61_000);
  await deletionLink(app, browser);

  // The sign-in budget per address and client (five a window) is shared
  // with the three requests above.
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    statuses.push(
      (await browser.post("/account/delete", { current_password: "wrong" }))
        .status,
    );
  }
  assert.deepEqual(statuses, [422, 422, 429]);
});

Deno.test("account delete: many records go in more than one commit, all of them", async () => {
  await using app = await testApp();
  const browser = await createActiveAccount(app, { email: "ada@example.com" });
  // 2,500 rate-limit records keyed by her address (three commits' worth).
  for (let i = 0; i < 2500; i += 500) {
    const atomic = app.kv.atomic();
    for (let j = i; j < i + 500; j++) {
      atomic.set(keys.rateLimit("forgot:email", "ada@example.com", j), 1);
    }
    await atomic.commit();
  }
  const path = await deletionLink(app, browser);
  assert.equal((await browser.post(path)).status, 303);
  await outboxDrained(app);
  assert.ok(!(await storeText(app.kv)).includes("ada@example.com"));
  assert.equal(
    await countPrefix(app.kv, ["rate_limits", "forgot:email"]),
    0,
  );
});

Deno.test("account delete: a goodbye that cannot be sent is a dead letter that lapses", async () => {
  await using app = await testApp({ MAIL_MAX_ATTEMPTS: "1" });
  const browser = await createActiveAccount(app);
  const path = await deletionLink(app, browser);
  await outboxDrained(app);
  app.mailer.failNext(1, new Error("relay down"));
  assert.equal((await browser.post(path)).status, 303);
  await outboxDrained(app);
  const dead = [];
  for await (
    const e of app.kv.list<DeadLetter>({ prefix: keys.deadLetters() })
  ) {
    dead.push(e.value);
  }
  assert.equal(dead.length, 1);
  assert.equal(dead[0].signal.type, "account_deleted");
  assert.equal(dead[0].expiresAt, dead[0].deadAt + GOODBYE_DEAD_LETTER_TTL_MS);
});
