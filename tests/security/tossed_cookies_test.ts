// Cookie tossing: a page on a sibling subdomain can set a cookie for the
// parent domain with a longer path, and the browser then sends two cookies
// of one name, the planted one first. Whatever name arrives twice counts as
// absent; in production the names carry `__Host-`, which a sibling cannot set.
import assert from "node:assert/strict";
import {
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  startTestApp,
} from "../helpers.ts";
import { startSmtpServer } from "../smtp_server.ts";

/** The Cookie header a browser sends with a planted cookie before ours. */
function tossed(name: string, planted: string, ours: string): HeadersInit {
  return { cookie: `${name}=${planted}; ${name}=${ours}` };
}

Deno.test("tossed cookies: a session cookie sent twice signs nobody in, on every page", async () => {
  await using app = await startTestApp();
  const victim = await createActiveAccount(app);
  const attacker = await createActiveAccount(app, {
    email: "mallory@example.com",
    first_name: "Mallory",
  });
  const ours = victim.cookies.get("session")!;
  const planted = attacker.cookies.get("session")!;
  const requests: [string, string, Record<string, string>?][] = [
    ["GET", "/"],
    ["GET", "/account"],
    ["GET", "/login"],
    ["GET", "/register"],
    ["POST", "/account/password", {
      current_password: GOOD_PASSWORD,
      password: "a brand new passphrase",
      password_confirm: "a brand new passphrase",
    }],
  ];
  const stranger = app.browser();
  for (const [method, path, form] of requests) {
    const alone = await stranger.request(method, path, { form });
    const twice = await stranger.request(method, path, {
      form,
      headers: tossed("session", planted, ours),
    });
    assert.equal(twice.status, alone.status, `${method} ${path}`);
    assert.equal(twice.location, alone.location, `${method} ${path}`);
    assert.doesNotMatch(twice.body, /Mallory|Ada/, `${method} ${path}`);
  }
  const me = await stranger.request("GET", "/api/me", {
    headers: tossed("session", planted, ours),
  });
  assert.equal(me.status, 401);
  // Logging out with two cookies ends neither session.
  await stranger.request("POST", "/logout", {
    headers: tossed("session", planted, ours),
  });
  assert.equal((await victim.get("/account")).status, 200);
  assert.equal((await attacker.get("/account")).status, 200);
  // Each cookie alone still works: only the pair is refused.
  assert.equal(
    (await stranger.get("/account", { cookie: `session=${ours}` })).status,
    200,
  );
});

Deno.test("tossed cookies: the marker sent twice is not the registering browser", async () => {
  await using app = await startTestApp();
  const ATTACKER_PW = "attacker chose this one";
  const victim = app.browser();
  await victim.register({ email: "victim@example.com" });
  await app.mailer.waitFor(1);
  const attacker = app.browser();
  await attacker.register({
    email: "victim@example.com",
    password: ATTACKER_PW,
    password_confirm: ATTACKER_PW,
  });
  app.clock.advance(60_000);
  await victim.post("/activate/resend", { email: "victim@example.com" });
  const mails = await app.mailer.waitFor(2);
  const link = linkPath(mails.at(-1)!.text, "/activate/");
  const headers = tossed(
    "registered",
    attacker.cookies.get("registered")!,
    victim.cookies.get("registered")!,
  );
  // The attacker's marker first: without the fix the page submits itself
  // and activates the account with the attacker's password.
  const page = await app.browser().get(link, headers);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.body, /data-auto-submit/);
  assert.match(page.body, /autocomplete="new-password"/);
  const bare = await app.browser().request("POST", link, { headers });
  assert.equal(bare.status, 200);
  assert.equal(bare.headers.getSetCookie().length, 0);
  const login = await app.browser().post("/login", {
    email: "victim@example.com",
    password: ATTACKER_PW,
  });
  assert.notEqual(login.location, "/account");
});

Deno.test("tossed cookies: a lang cookie sent twice counts as none", async () => {
  await using app = await startTestApp();
  const res = await app.browser().get("/register", {
    cookie: "lang=ru; lang=en",
    "accept-language": "en",
  });
  assert.equal(res.status, 200);
  assert.match(res.body, /<html lang="en"/);
  const one = await app.browser().get("/register", {
    cookie: "lang=ru",
    "accept-language": "en",
  });
  assert.match(one.body, /<html lang="ru"/);
});

Deno.test("tossed cookies: production names its cookies __Host- (Secure, Path=/, no Domain)", async () => {
  await using smtp = await startSmtpServer();
  await using app = await startTestApp({
    env: {
      APP_ENV: "production",
      KV_PATH: "data/never-opened-by-this-test.sqlite3",
      APP_ORIGIN: "https://app.test",
      MAIL_BACKEND: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
    },
  });
  const browser = app.browser();
  const origin = { origin: "https://app.test" };
  const registered = await browser.post("/register", {
    first_name: "Ada",
    email: "ada@example.com",
    password: GOOD_PASSWORD,
    password_confirm: GOOD_PASSWORD,
  }, origin);
  assert.equal(registered.status, 303);
  const [marker] = registered.headers.getSetCookie();
  assert.match(marker, /^__Host-registered=/);
  assertHostCookie(marker);

  const link = linkPath((await smtp.waitFor(1))[0].text, "/activate/");
  // The registering browser still activates in one step.
  assert.match((await browser.get(link)).body, /data-auto-submit/);
  const activated = await browser.request("POST", link, { headers: origin });
  assert.equal(activated.location, "/account");
  const cookies = activated.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith("__Host-session="))!;
  assertHostCookie(session);
  assert.ok(cookies.some((c) => /^__Host-registered=;.*Max-Age=0/.test(c)));
  assert.equal((await browser.get("/account")).status, 200);

  // The same token under the unprefixed name (what a sibling could plant)
  // signs nobody in.
  const token = browser.cookies.get("__Host-session")!;
  const planted = await app.browser().get("/account", {
    cookie: `session=${token}`,
  });
  assert.equal(planted.location, "/login");
  const twice = await app.browser().get("/account", {
    cookie: `__Host-session=${token}; __Host-session=${token}`,
  });
  assert.equal(twice.location, "/login");
});

function assertHostCookie(cookie: string) {
  const attrs = cookie.split(";").map((a) => a.trim().toLowerCase());
  assert.ok(attrs.includes("secure"), cookie);
  assert.ok(attrs.includes("path=/"), cookie);
  assert.ok(!attrs.some((a) => a.startsWith("domain=")), cookie);
}
