// /account/sessions and the account page's security events, through real
// HTTP: list, "this device", end one, end the others, only one's own.
import assert from "node:assert/strict";
import {
  LAST_USED_EVERY_MS,
  type Session,
} from "../../lib/accounts/sessions.ts";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  startTestApp,
  type TestApp,
  TestBrowser,
} from "../helpers.ts";

const FIREFOX =
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/** A browser that names itself in every request, as real ones do. */
class NamedBrowser extends TestBrowser {
  constructor(base: string, readonly userAgent: string) {
    super(base);
  }
  override request(
    method: string,
    path: string,
    init: Parameters<TestBrowser["request"]>[2] = {},
  ) {
    const headers = new Headers(init.headers);
    headers.set("user-agent", this.userAgent);
    return super.request(method, path, { ...init, headers });
  }
}

async function signInFrom(
  app: TestApp,
  userAgent: string,
  email = "ada@example.com",
): Promise<TestBrowser> {
  const browser = new NamedBrowser(app.url, userAgent);
  const res = await browser.post("/login", { email, password: GOOD_PASSWORD });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
  return browser;
}

/** The session ids the page offers to end, in page order. */
function endable(body: string): string[] {
  return [...body.matchAll(/name="session" value="([0-9a-f]{64})"/g)].map((
    m,
  ) => m[1]);
}

Deno.test("sessions page: lists every session with its device and network, this one marked", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const laptop = await signInFrom(app, FIREFOX);
  await signInFrom(app, IPHONE);
  const res = await laptop.get("/account/sessions");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.body.match(/data-testid="session"/g)?.length, 3);
  // This device first, marked, with no button to end it.
  const first = res.body.split('data-testid="session"')[1];
  assert.match(first, /Firefox 128 on Linux/);
  assert.match(first, /This device/);
  assert.doesNotMatch(first, /name="session"/);
  assert.match(res.body, /Safari 17 on iOS/);
  assert.match(res.body, /127\.0\.0\.x/);
  assert.equal(endable(res.body).length, 2);
  assert.match(res.body, /action="\/account\/sessions\/end-others"/);
  // Plain forms: nothing here needs a script.
  assert.doesNotMatch(res.body, /<script/);
});

Deno.test("sessions page: in Russian", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  ada.cookies.set("lang", "ru");
  const res = await ada.get("/account/sessions");
  assert.equal(res.status, 200);
  assert.match(res.body, /Устройства, где выполнен вход/);
  assert.match(res.body, /Это устройство/);
});

Deno.test("sessions page: ending one signs that device out and says so once", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const laptop = await signInFrom(app, FIREFOX);
  const phone = await signInFrom(app, IPHONE);
  const page = await laptop.get("/account/sessions");
  const phoneId = endable(page.body).find((id) =>
    page.body.indexOf(id) > page.body.indexOf("Safari 17 on iOS")
  )!;
  const res = await laptop.post("/account/sessions/end", { session: phoneId });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account/sessions");
  assert.equal((await phone.get("/account")).location, "/login");
  const after = await laptop.get("/account/sessions");
  assert.match(after.body, /That device is signed out/);
  assert.doesNotMatch(after.body, /Safari 17 on iOS/);
  assert.doesNotMatch(
    (await laptop.get("/account/sessions")).body,
    /is signed out/,
  );
  // The account page tells it among the recent events.
  const account = await laptop.get("/account");
  assert.match(
    account.body,
    /Signed out a device: Safari 17 on iOS<\/strong><br\/><span class="hint"><time[^>]*>[^<]*<\/time> · Firefox 128 on Linux · 127\.0\.0\.x/,
  );
});

Deno.test("sessions page: ending every other session keeps only this one", async () => {
  await using app = await startTestApp();
  const first = await createActiveAccount(app);
  const laptop = await signInFrom(app, FIREFOX);
  const phone = await signInFrom(app, IPHONE);
  const res = await laptop.post("/account/sessions/end-others");
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account/sessions");
  const page = await laptop.get("/account/sessions");
  assert.match(page.body, /Every other device is signed out/);
  for (const other of [first, phone]) {
    assert.equal((await other.get("/account")).location, "/login");
  }
  assert.equal((await laptop.get("/account")).status, 200);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  assert.doesNotMatch(page.body, /end-others/, "no others left to end");
  assert.match(
    (await laptop.get("/account")).body,
    /Signed out all other devices \(2\)/,
  );
});

Deno.test("sessions page: Mallory's session id in Ada's form is not found, and he stays signed in", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  await createActiveAccount(app, { email: "mallory@evil.test" });
  const mallory = await signInFrom(app, FIREFOX, "mallory@evil.test");
  const his = endable((await mallory.get("/account/sessions")).body)[0];
  const before = await countPrefix(app.kv, ["sessions"]);
  const res = await ada.post("/account/sessions/end", { session: his });
  assert.equal(res.status, 404);
  assert.match(res.body, /already ended, or is not one of yours/);
  assert.equal(await countPrefix(app.kv, ["sessions"]), before);
  assert.equal((await mallory.get("/account")).status, 200);
  // Made-up ids too.
  for (const session of ["", "zz", "0".repeat(64)]) {
    assert.equal(
      (await ada.post("/account/sessions/end", { session })).status,
      404,
    );
  }
});

Deno.test("sessions page: signed out, it sends people to sign in; another site cannot post to it", async () => {
  await using app = await startTestApp();
  const stranger = app.browser();
  assert.equal((await stranger.get("/account/sessions")).location, "/login");
  assert.equal(
    (await stranger.post("/account/sessions/end-others")).location,
    "/login",
  );
  const ada = await createActiveAccount(app);
  const before = await countPrefix(app.kv, ["sessions"]);
  const res = await ada.post("/account/sessions/end-others", {}, {
    origin: "https://evil.test",
  });
  assert.equal(res.status, 403);
  assert.equal(await countPrefix(app.kv, ["sessions"]), before);
});

Deno.test("sessions page: last used moves at most once per interval", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  const [entry] = await Array.fromAsync(
    app.kv.list<Session>({ prefix: ["sessions"] }),
  );
  const created = entry.value.createdAt;
  app.clock.advance(LAST_USED_EVERY_MS - 1_000);
  await ada.get("/account");
  const same = await app.kv.get<Session>(entry.key);
  assert.equal(same.versionstamp, entry.versionstamp, "no write per request");
  app.clock.advance(2_000);
  await ada.get("/account");
  const touched = (await app.kv.get<Session>(entry.key)).value!;
  assert.equal(touched.lastUsedAt, created + LAST_USED_EVERY_MS + 1_000);
  await ada.get("/account");
  assert.equal(
    (await app.kv.get<Session>(entry.key)).value!.lastUsedAt,
    touched.lastUsedAt,
  );
});

Deno.test("sessions page: behind a proxy, an IPv6 client shows as its /48", async () => {
  await using app = await startTestApp({ env: { TRUSTED_PROXY_HOPS: "1" } });
  await createActiveAccount(app);
  const browser = app.browser();
  await browser.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  }, { "x-forwarded-for": "2001:db8:abcd:12::7" });
  const page = await browser.get("/account/sessions");
  assert.match(page.body, /2001:db8:abcd::\/48/);
  assert.doesNotMatch(page.body, /abcd:12/);
  const stored = await Array.fromAsync(
    app.kv.list<Session>({ prefix: ["sessions"] }),
  );
  assert.ok(
    stored.some((e) => e.value.client?.address === "2001:db8:abcd::/48"),
  );
});

Deno.test("account page: the ten latest security events, newest first, in the person's language", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  for (let i = 0; i < 11; i++) {
    app.clock.advance(60_000);
    await signInFrom(app, i === 10 ? IPHONE : FIREFOX);
  }
  const res = await ada.get("/account");
  const items = res.body.split('<ul class="audit-events">')[1].split("</ul>")[0]
    .match(/<li>/g);
  assert.equal(items?.length, 10);
  assert.match(
    res.body,
    /<ul class="audit-events"><li><strong>Signed in<\/strong><br\/><span class="hint"><time[^>]*>[^<]*<\/time> · Safari 17 on iOS/,
  );
  ada.cookies.set("lang", "ru");
  const ru = await ada.get("/account");
  assert.match(ru.body, /Недавние события безопасности/);
  assert.match(ru.body, /Вход в аккаунт/);
  assert.match(ru.body, /Safari 17, iOS/);
});

Deno.test("account page: a password change and a reset are recorded with their device", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const laptop = await signInFrom(app, FIREFOX);
  const NEW = "another long passphrase";
  const res = await laptop.post("/account/password", {
    current_password: GOOD_PASSWORD,
    password: NEW,
    password_confirm: NEW,
  });
  assert.equal(res.status, 303);
  const page = await laptop.get("/account");
  assert.match(
    page.body,
    /<li><strong>Password changed<\/strong><br\/><span class="hint"><time[^>]*>[^<]*<\/time> · Firefox 128 on Linux/,
  );
});

Deno.test("sessions page: odd bodies get a clear answer, never a 5xx, and end nothing", async () => {
  await using app = await startTestApp();
  const ada = await createActiveAccount(app);
  await signInFrom(app, IPHONE);
  const before = await countPrefix(app.kv, ["sessions"]);
  const json = await ada.request("POST", "/account/sessions/end", {
    json: { session: "x" },
  });
  assert.equal(json.status, 415);
  const long = await ada.post("/account/sessions/end", {
    session: "a".repeat(60_000),
  });
  assert.equal(long.status, 404);
  // An empty form: no id at all.
  const empty = await ada.request("POST", "/account/sessions/end", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  assert.equal(empty.status, 404);
  assert.equal(await countPrefix(app.kv, ["sessions"]), before);
});
