import assert from "node:assert/strict";
import { countPrefix, startTestApp, type TestApp } from "../helpers.ts";
import type { User } from "../../lib/users.ts";

async function pendingUser(app: TestApp, email = "ada@example.com") {
  const id = (await app.kv.get<string>(["users_by_email", email])).value!;
  return (await app.kv.get<User>(["users", id])).value!;
}

Deno.test("activate: a GET or HEAD of the link shows a button and changes nothing", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const path = await app.activationPath();
  const before = await pendingUser(app);

  const scanner = app.browser();
  const page = await scanner.get(path);
  assert.equal(page.status, 200);
  assert.match(page.body, /Activate the account for a…@example\.com/);
  assert.match(page.body, new RegExp(`<form method="post" action="${path}"`));
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
  await app.browser().register();
  const path = await app.activationPath();
  assert.equal((await app.browser().post(path)).location, "/account");

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
  await app.browser().register();
  const path = await app.activationPath();
  assert.equal((await app.browser().post(path)).location, "/welcome");
  assert.equal((await app.browser().post(path)).location, "/signin?again=1");
});

Deno.test("activate: an expired link says so and activates nothing", async () => {
  await using app = await startTestApp({ env: { ACTIVATION_MAX_AGE: "1h" } });
  await app.browser().register();
  const path = await app.activationPath();
  app.clock.advance(3_600_001);
  for (const method of ["GET", "POST"]) {
    const res = await app.browser().request(method, path);
    assert.equal(res.status, 400);
    assert.match(res.body, /This activation link has expired/);
    assert.match(res.body, /action="\/activate\/resend"/);
  }
  assert.equal((await pendingUser(app)).isActivated, false);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);
});

Deno.test("activate: tampered, truncated and unknown links are invalid", async () => {
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
      assert.match(res.body, /This activation link does not work/);
    }
  }
  assert.equal((await pendingUser(app)).isActivated, false);
});

Deno.test("activate: a link for a user that no longer exists is invalid", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const path = await app.activationPath();
  const user = await pendingUser(app);
  await app.kv.atomic().delete(["users", user.id])
    .delete(["users_by_email", user.email]).commit();
  const res = await app.browser().post(path);
  assert.equal(res.status, 400);
  assert.match(res.body, /does not work/);
  assert.equal(await countPrefix(app.kv, ["users"]), 0);
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
  await app.browser().register();
  const path = await app.activationPath();
  const results = await Promise.all(
    Array.from({ length: 20 }, () => app.browser().post(path)),
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
