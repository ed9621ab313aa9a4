import assert from "node:assert/strict";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  outboxDrained,
  startTestApp,
  type TestApp,
} from "../helpers.ts";
import type { User } from "../../lib/accounts/users.ts";
import { keys } from "../../lib/kv/keys.ts";

async function pendingUser(app: TestApp, email = "ada@example.com") {
  const id = (await app.kv.get<string>(keys.userByEmail(email))).value!;
  return (await app.kv.get<User>(keys.user(id))).value!;
}

Deno.test("activate: a GET or HEAD of the link shows a button and changes nothing", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const path = await app.activationPath();
  const before = await pendingUser(app);

  const scanner = app.browser();
  const page = await scanner.get(path);
  assert.equal(page.status, 200);
  // Not the browser that registered: the full address, and a password.
  assert.match(page.body, /activating the account for ada@example\.com/);
  assert.match(page.body, new RegExp(`<form method="post" action="${path}"`));
  assert.match(page.body, /name="current_password"/);
  assert.equal(page.headers.get("cache-control"), "no-store");
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  const head = await scanner.request("HEAD", path);
  assert.equal(head.status, 200);

  assert.deepEqual(await pendingUser(app), before);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);
  assert.equal(scanner.cookies.size, 0);
});

Deno.test("activate: only the browser that registered submits the page by itself", async () => {
  await using app = await startTestApp();
  const registrant = app.browser();
  await registrant.register();
  const path = await app.activationPath();

  const own = await registrant.get(path);
  assert.match(own.body, /data-auto-submit/);
  assert.match(own.body, /<script type="module" src="\/static\/activate\.js"/);

  const other = await app.browser().get(path);
  assert.equal(other.status, 200);
  assert.doesNotMatch(other.body, /data-auto-submit/);
  assert.doesNotMatch(other.body, /activate\.js/);

  // A registration cookie for another account does not count either.
  const someoneElse = app.browser();
  await someoneElse.register({ email: "eve@example.com" });
  const foreign = await someoneElse.get(path);
  assert.doesNotMatch(foreign.body, /data-auto-submit/);
});

Deno.test("activate: the POST activates, signs in and redirects to the account", async () => {
  await using app = await startTestApp();
  const browser = app.browser();
  await browser.register();
  const path = await app.activationPath();

  const res = await browser.post(path);
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
  const cookie = res.headers.getSetCookie().find((c) =>
    c.startsWith("session=")
  );
  assert.ok(cookie, "a session cookie is set");
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.match(cookie, /Path=\//);
  // APP_ORIGIN is not plain-http localhost, so the cookie is Secure.
  assert.match(cookie, /Secure/);

  const user = await pendingUser(app);
  assert.equal(user.isActivated, true);
  assert.equal(user.isActive, true);
  assert.equal(user.activatedAt, app.clock.now());
  assert.equal(user.pendingUntil, null);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);

  const account = await browser.get("/account");
  assert.equal(account.status, 200);
  assert.match(account.body, /Hello, Ada!/);
  assert.match(account.body, /ada@example\.com/);
  assert.equal(account.headers.get("cache-control"), "no-store");
});

Deno.test("activate: a second click goes to the already-active page without a session", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const path = await app.activationPath();
  assert.equal((await owner.post(path)).location, "/account");

  const again = app.browser();
  for (const res of [await again.post(path), await again.get(path)]) {
    assert.equal(res.status, 303);
    assert.equal(res.location, "/login?activated=1");
  }
  assert.equal(again.cookies.has("session"), false);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  const login = await again.get("/login?activated=1");
  assert.match(login.body, /already active/);
});

Deno.test("activate: redirects follow REDIRECT_AFTER_ACTIVATION and REDIRECT_IF_ALREADY_ACTIVE", async () => {
  await using app = await startTestApp({
    env: {
      REDIRECT_AFTER_ACTIVATION: "/welcome",
      REDIRECT_IF_ALREADY_ACTIVE: "/signin?again=1",
    },
  });
  const owner = app.browser();
  await owner.register();
  const path = await app.activationPath();
  assert.equal((await owner.post(path)).location, "/welcome");
  assert.equal((await app.browser().post(path)).location, "/signin?again=1");
});

Deno.test("activate: the account page welcomes the person once, on arrival", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const res = await owner.post(await app.activationPath());
  assert.equal(res.location, "/account");
  const first = await owner.get("/account");
  assert.match(
    first.body,
    /class="notice success" role="status">Your account is active/,
  );
  // A reload is an ordinary visit.
  assert.doesNotMatch((await owner.get("/account")).body, /account is active/);
});

Deno.test("activate: an expired link says so and offers one press for a new link to the masked address", async () => {
  await using app = await startTestApp({ env: { ACTIVATION_MAX_AGE: "1h" } });
  await app.browser().register();
  const path = await app.activationPath();
  const token = path.slice("/activate/".length);
  app.clock.advance(3_600_001);
  for (const method of ["GET", "POST"]) {
    const res = await app.browser().request(method, path);
    assert.equal(res.status, 400);
    assert.match(res.body, /<h1>This activation link has expired<\/h1>/);
    assert.match(res.body, /work for 1 hour/);
    assert.match(
      res.body,
      /The account for <span class="masked">a…@example\.com<\/span> is still waiting/,
    );
    assert.doesNotMatch(res.body, /ada@example\.com/);
    // One button, no address to type, and not "Didn't get the email?".
    assert.match(res.body, /<form method="post" action="\/activate\/renew">/);
    assert.match(res.body, new RegExp(`name="link" value="${token}"`));
    assert.match(
      res.body,
      /<button type="submit" class="primary">Send me a new link<\/button>/,
    );
    assert.doesNotMatch(res.body, /name="email"/);
    assert.doesNotMatch(res.body, /Didn&#39;t get the email|Didn't get/);
  }
  assert.equal((await pendingUser(app)).isActivated, false);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);

  // The press mails a fresh link that works.
  const renew = await app.browser().post("/activate/renew", { link: token });
  assert.equal(renew.status, 303);
  assert.equal(renew.location, "/activate/sent");
  const fresh = await app.activationPath(2);
  assert.notEqual(fresh, path);
  assert.equal((await app.browser().get(fresh)).status, 200);

  // Pressed again at once: the same page, calmly saying when.
  const again = await app.browser().post("/activate/renew", { link: token });
  assert.equal(again.status, 429);
  assert.equal(again.headers.get("retry-after"), "60");
  assert.match(again.body, /A new link can be sent in 1:00\./);
  assert.match(again.body, /This activation link has expired|newer link/);
  assert.doesNotMatch(again.body, /Too many attempts/);
  // Its button, counting down where JavaScript runs, says what it will do.
  assert.match(
    again.body,
    /data-island="WaitButton"[^>]*&quot;waitKey&quot;:&quot;resend\.wait_button&quot;/,
  );
});

Deno.test("activate: a link replaced by a newer one says so, not that it is broken", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const first = await app.activationPath(1);
  await app.browser().post("/activate/resend", { email: "ada@example.com" });
  const second = await app.activationPath(2);
  for (const method of ["GET", "POST"]) {
    const res = await app.browser().request(method, first);
    assert.equal(res.status, 400);
    assert.match(res.body, /<h1>A newer link replaced this one<\/h1>/);
    assert.match(
      res.body,
      /A newer activation link was sent to <span class="masked">a…@example\.com<\/span>/,
    );
    assert.match(res.body, /action="\/activate\/renew"/);
    assert.doesNotMatch(res.body, /incomplete|name="email"/);
  }
  // Renewing from a link that still works just goes to it.
  const token = second.slice("/activate/".length);
  const live = await app.browser().post("/activate/renew", { link: token });
  assert.equal(live.status, 303);
  assert.equal(live.location, second);
});

Deno.test("activate: tampered, truncated and unknown links say they are incomplete and ask for the address", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const path = await app.activationPath();
  const token = path.slice("/activate/".length);
  const flipped = token.slice(0, 5) + (token[5] === "A" ? "B" : "A") +
    token.slice(6);
  const bad = [flipped, token.slice(0, -1), token + "x", "nonsense", "a.b"];
  for (const t of bad) {
    for (const method of ["GET", "POST"]) {
      const res = await app.browser().request(method, `/activate/${t}`);
      assert.equal(res.status, 400, `${method} ${t}`);
      assert.match(res.body, /<h1>This activation link is incomplete<\/h1>/);
      assert.match(res.body, /<h2 id="resend-title">Ask for a new link<\/h2>/);
      assert.match(res.body, /action="\/activate\/resend"/);
    }
    // A forged link cannot ask for a mail on anyone's behalf.
    const renew = await app.browser().post("/activate/renew", { link: t });
    assert.equal(renew.status, 400);
  }
  assert.equal((await pendingUser(app)).isActivated, false);
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, 1);
});

Deno.test("activate: a link for a user that no longer exists activates nothing", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const path = await app.activationPath();
  const user = await pendingUser(app);
  await app.kv.atomic().delete(keys.user(user.id))
    .delete(keys.userByEmail(user.email)).commit();
  const res = await app.browser().post(path);
  assert.equal(res.status, 400);
  assert.match(res.body, /action="\/activate\/resend"/);
  assert.equal(await countPrefix(app.kv, keys.users()), 0);
});

Deno.test("activate: without JavaScript the registering browser's page claims no progress", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const page = await owner.get(await app.activationPath());
  assert.equal(page.status, 200);
  // "Activating…" only once the script runs; the button says what to do.
  assert.doesNotMatch(page.body, />Activating…</);
  assert.match(page.body, /data-auto-status="Activating…"/);
  assert.match(
    page.body,
    /<button type="submit" class="primary">Activate my account<\/button>/,
  );
});

Deno.test("activate: a pending user past PENDING_USER_TTL cannot activate", async () => {
  await using app = await startTestApp({
    env: { PENDING_USER_TTL: "1h", ACTIVATION_MAX_AGE: "3d" },
  });
  await app.browser().register();
  const path = await app.activationPath();
  app.clock.advance(3_600_001);
  const res = await app.browser().post(path);
  assert.equal(res.status, 400);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);
});

Deno.test("activate: twenty simultaneous POSTs activate once and create one session", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const path = await app.activationPath();
  const results = await Promise.all(
    Array.from({ length: 20 }, () => owner.tab().post(path)),
  );
  const signedIn = results.filter((r) => r.location === "/account");
  const already = results.filter((r) => r.location === "/login?activated=1");
  assert.equal(signedIn.length, 1);
  assert.equal(already.length, 19);
  assert.equal(
    results.filter((r) =>
      r.headers.getSetCookie().some((c) => c.startsWith("session="))
    ).length,
    1,
  );
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  assert.equal(await countPrefix(app.kv, ["sessions_by_user"]), 1);
});

const MALLORY_PW = "mallory knows this one";
const VICTIM_PW = "victims own secret phrase";

Deno.test("activate: an address only a stranger registered never goes live with his password", async () => {
  await using app = await startTestApp();
  const attacker = app.browser();
  await attacker.register({
    email: "victim@example.com",
    password: MALLORY_PW,
    password_confirm: MALLORY_PW,
  });
  const link = await app.activationPath(1);
  // The victim opens the mail: the address is shown, and a password asked.
  const victim = app.browser();
  const page = await victim.get(link);
  assert.equal(page.status, 200);
  assert.match(page.body, /activating the account for victim@example\.com/);
  assert.match(page.body, /name="current_password"/);
  assert.match(page.body, /name="password_confirm"/);
  assert.doesNotMatch(page.body, /data-auto-submit/);
  // Pressing a button proves nothing; her own password is not the account's.
  assert.equal((await victim.post(link)).status, 200);
  const wrong = await victim.post(link, { current_password: VICTIM_PW });
  assert.equal(wrong.status, 422);
  assert.match(wrong.body, /not the password this account was registered with/);
  assert.equal(
    (await pendingUser(app, "victim@example.com")).isActivated,
    false,
  );
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);
  // She chooses her own: the stranger's stops working.
  const done = await victim.post(link, {
    password: VICTIM_PW,
    password_confirm: VICTIM_PW,
  });
  assert.equal(done.location, "/account");
  const login = (password: string) =>
    app.browser().post("/login", { email: "victim@example.com", password });
  assert.equal((await login(MALLORY_PW)).status, 400);
  assert.equal((await login(VICTIM_PW)).location, "/account");
});

Deno.test("activate: a link someone else registered does not sign this browser in to his account", async () => {
  await using app = await startTestApp();
  await app.browser().register({
    email: "mallory@evil.test",
    password: MALLORY_PW,
    password_confirm: MALLORY_PW,
  });
  const link = await app.activationPath(1);
  // Login CSRF: the victim presses Mallory's link (or a page posts it).
  const victim = app.browser();
  const res = await victim.post(link);
  assert.equal(res.status, 200);
  assert.equal(victim.cookies.has("session"), false);
  assert.equal(
    (await pendingUser(app, "mallory@evil.test")).isActivated,
    false,
  );
});

Deno.test("activate: in another browser the account's password activates it", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const link = await app.activationPath(1);
  const phone = app.browser();
  const res = await phone.post(link, { current_password: GOOD_PASSWORD });
  assert.equal(res.location, "/account");
  assert.equal((await phone.get("/account")).status, 200);
});

Deno.test("activate: signing in by activation ends the session the browser had", async () => {
  await using app = await startTestApp();
  const browser = await createActiveAccount(app, {
    email: "first@example.com",
  });
  const before = browser.cookies.get("session")!;
  const copy = app.browser();
  copy.cookies.set("session", before);
  assert.equal((await copy.get("/account")).status, 200);
  await browser.register({ email: "second@example.com" });
  const res = await browser.post(await app.activationPath(2));
  assert.equal(res.location, "/account");
  assert.notEqual(browser.cookies.get("session"), before);
  // The earlier session is gone, not merely replaced in this cookie jar.
  assert.equal((await copy.get("/account")).status, 303);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
});

/**
 * A test app whose KV notes every read and commit made while `counting`:
 * what KV does per activation is most of the activation's cost.
 */
async function countingApp() {
  const calls: string[] = [];
  let counting = false;
  const app = await startTestApp({
    wrapKv: (kv) =>
      new Proxy(kv, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== "function") return value;
          if (prop === "atomic") {
            return () => {
              const op = target.atomic();
              const commit = op.commit.bind(op);
              op.commit = () => {
                if (counting) calls.push("commit");
                return commit();
              };
              return op;
            };
          }
          return (...args: unknown[]) => {
            if (counting && ["get", "getMany", "list"].includes(String(prop))) {
              calls.push(`${String(prop)} ${JSON.stringify(args[0])}`);
            }
            return value.apply(target, args);
          };
        },
      }),
  });
  return {
    app,
    /** The calls `work` made, from the first read of `from` on. */
    async callsFrom(from: Deno.KvKey, work: () => Promise<unknown>) {
      calls.length = 0;
      counting = true;
      try {
        await work();
      } finally {
        counting = false;
      }
      const first = calls.indexOf(`get ${JSON.stringify(from)}`);
      return { all: calls.slice(), fromRead: calls.slice(first) };
    },
  };
}

Deno.test("activate: the registering browser's POST reads the account once and commits once", async () => {
  // The route and the store share one read of the record, and everything
  // lands in one commit (user, index, session, audit event).
  const { app, callsFrom } = await countingApp();
  await using _app = app;
  const browser = app.browser();
  await browser.register();
  const path = await app.activationPath();
  const user = await pendingUser(app);
  let res: Awaited<ReturnType<typeof browser.post>> | undefined;
  const calls = await callsFrom(keys.user(user.id), async () => {
    res = await browser.post(path);
  });
  assert.equal(res?.status, 303);
  assert.equal(res?.location, "/account");
  assert.deepEqual(calls.fromRead, [
    `get ${JSON.stringify(keys.user(user.id))}`,
    "commit",
  ]);
  assert.equal(calls.all.filter((c) => c === "commit").length, 1);
  const stored = (await app.kv.get<User>(keys.user(user.id))).value!;
  assert.equal(stored.isActivated, true);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  assert.equal(await countPrefix(app.kv, keys.auditEvents(user.id)), 1);
});

Deno.test("activate: the session the browser had ends in the activation's own commit", async () => {
  const { app, callsFrom } = await countingApp();
  await using _app = app;
  const browser = await createActiveAccount(app, {
    email: "first@example.com",
  });
  const first =
    (await app.kv.get<string>(keys.userByEmail("first@example.com")))
      .value!;
  await browser.register({ email: "second@example.com" });
  const path = await app.activationPath(2);
  const second = await pendingUser(app, "second@example.com");
  let res: Awaited<ReturnType<typeof browser.post>> | undefined;
  const calls = await callsFrom(keys.user(second.id), async () => {
    res = await browser.post(path);
  });
  assert.equal(res?.location, "/account");
  // Signing in to the second account and signing out of the first: one
  // commit, no read of the old session after the page's own.
  assert.deepEqual(calls.fromRead, [
    `get ${JSON.stringify(keys.user(second.id))}`,
    "commit",
  ]);
  assert.equal(calls.all.filter((c) => c === "commit").length, 1);
  assert.equal(await countPrefix(app.kv, keys.userSessions(first)), 0);
  assert.equal(await countPrefix(app.kv, keys.userSessions(second.id)), 1);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
});
