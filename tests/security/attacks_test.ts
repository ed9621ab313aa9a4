// What an attacker can try from a browser: cross-site posts, framing, sniffing,
// leaking tokens through Referer or logs, planting cookies, injecting HTML.
import assert from "node:assert/strict";
import {
  allKeys,
  GOOD_PASSWORD,
  startTestApp,
  type TestApp,
  type TestBrowser,
} from "../helpers.ts";

const POST_ENDPOINTS = ["/register", "/login", "/logout", "/activate/x.y"];

const mailsBefore = new WeakMap<TestApp, number>();

async function activeAccount(
  app: TestApp,
  fields: Record<string, string> = {},
) {
  const nth = (mailsBefore.get(app) ?? 0) + 1;
  mailsBefore.set(app, nth);
  const browser = app.browser();
  await browser.register(fields);
  await browser.post(await app.activationPath(nth));
  return browser;
}

Deno.test("attacks: cross-site form posts are refused with 403 and write nothing", async () => {
  await using app = await startTestApp();
  const cases: [string, HeadersInit][] = [
    ["foreign Origin", { origin: "https://evil.example" }],
    ["null Origin", { origin: "null" }],
    ["look-alike Origin", { origin: "http://app.test.evil.example" }],
    ["no Origin, Sec-Fetch-Site cross-site", {
      origin: "",
      "sec-fetch-site": "cross-site",
    }],
    ["no Origin, Sec-Fetch-Site same-site", {
      origin: "",
      "sec-fetch-site": "same-site",
    }],
  ];
  let refused = 0;
  for (const path of POST_ENDPOINTS) {
    for (const [name, headers] of cases) {
      const h = new Headers(headers);
      // TestBrowser adds our Origin unless one is set; "" means none at all.
      const browser = app.browser();
      const sent = h.get("origin") === ""
        ? await fetch(new URL(path, app.url), {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "sec-fetch-site": h.get("sec-fetch-site")!,
          },
          body: "email=ada%40example.com&password=x",
          redirect: "manual",
        }).then(async (r) => ({ status: r.status, body: await r.text() }))
        : await browser.post(path, { email: "ada@example.com" }, h);
      assert.equal(sent.status, 403, `${path}: ${name}`);
      assert.match(sent.body, /Request refused/);
      refused++;
    }
  }
  assert.deepEqual(await allKeys(app.kv), []);
  console.log(`${refused} cross-site posts → ${refused} × 403, 0 writes`);
});

Deno.test("attacks: a cross-site sign-out cannot end someone's session", async () => {
  await using app = await startTestApp();
  const victim = await activeAccount(app);
  const res = await victim.post("/logout", {}, {
    origin: "https://evil.example",
  });
  assert.equal(res.status, 403);
  assert.equal((await victim.get("/account")).status, 200);
});

function assertSecurityHeaders(what: string, headers: Headers) {
  const csp = headers.get("content-security-policy") ?? "";
  const directives = new Map(
    csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
  assert.deepEqual(directives.get("default-src"), ["'self'"], what);
  const scripts = directives.get("script-src") ?? [];
  // Only our own files, or a nonce/hash for what an island needs inline.
  assert.ok(
    scripts.length > 0 &&
      scripts.every((s) => /^'self'$|^'nonce-[^']+'$|^'sha\d+-[^']+'$/.test(s)),
    `${what}: script-src ${scripts}`,
  );
  assert.deepEqual(directives.get("frame-ancestors"), ["'none'"], what);
  assert.deepEqual(directives.get("object-src"), ["'none'"], what);
  assert.deepEqual(directives.get("base-uri"), ["'none'"], what);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, what);
  assert.equal(headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(headers.get("x-frame-options"), "DENY", what);
  assert.equal(headers.get("referrer-policy"), "no-referrer", what);
}

Deno.test("attacks: every response carries CSP, anti-framing, nosniff and no-referrer", async () => {
  await using app = await startTestApp();
  const signedIn = await activeAccount(app);
  await app.browser().register({ email: "bob@example.com" });
  const activation = await app.activationPath(2);
  const anon = app.browser();
  const responses: [string, Promise<{ headers: Headers; status: number }>][] = [
    ["GET /", anon.get("/")],
    ["GET /register", anon.get("/register")],
    ["GET /register/done", anon.get("/register/done")],
    ["GET /login", anon.get("/login")],
    ["GET /account (anon)", anon.get("/account")],
    ["GET /account", signedIn.get("/account")],
    ["GET activation", anon.get(activation)],
    ["GET bad activation", anon.get("/activate/x.y")],
    ["POST bad activation", anon.post("/activate/x.y")],
    ["GET /static/styles.css", anon.get("/static/styles.css")],
    ["GET 404", anon.get("/nope")],
    ["POST /register 422", anon.post("/register", {})],
    [
      "POST /login 400",
      anon.post("/login", { email: "a@b.co", password: "x" }),
    ],
    ["POST 403", anon.post("/login", {}, { origin: "https://evil.example" })],
    ["POST 413", anon.post("/login", { email: "x".repeat(70_000) })],
    [
      "POST 415",
      anon.request("POST", "/login", {
        headers: { "content-type": "application/json" },
      }),
    ],
    ["HEAD /register", anon.request("HEAD", "/register")],
  ];
  for (const [what, pending] of responses) {
    const res = await pending;
    assertSecurityHeaders(`${what} (${res.status})`, res.headers);
  }
  console.log(`${responses.length} kinds of response → all carry the headers`);
});

Deno.test("attacks: pages with account data or a token in the URL are never cached", async () => {
  await using app = await startTestApp();
  const browser = await activeAccount(app);
  await app.browser().register({ email: "bob@example.com" });
  const link = await app.activationPath(2);
  for (
    const res of [
      await browser.get("/account"),
      await app.browser().get(link),
      await app.browser().post("/activate/x.y"),
    ]
  ) {
    assert.equal(res.headers.get("cache-control"), "no-store");
  }
});

function sessionCookie(res: { headers: Headers }) {
  return res.headers.getSetCookie().find((c) => c.startsWith("session="));
}

Deno.test("attacks: the session cookie is HttpOnly, SameSite=Lax, Secure except on plain-http localhost", async () => {
  for (
    const [origin, secure] of [
      ["https://app.example", true],
      ["http://app.test", true],
      ["http://localhost:8000", false],
      ["http://127.0.0.1:8000", false],
    ] as const
  ) {
    await using app = await startTestApp({ env: { APP_ORIGIN: origin } });
    await activeAccount(app);
    const res = await app.browser().post("/login", {
      email: "ada@example.com",
      password: GOOD_PASSWORD,
    });
    const cookie = sessionCookie(res);
    assert.ok(cookie, origin);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.equal(/; Secure/.test(cookie), secure, `${origin}: ${cookie}`);
  }
});

Deno.test("attacks: a planted session cookie is replaced and deleted at sign-in (no fixation)", async () => {
  await using app = await startTestApp();
  // The attacker's own valid session, planted in the victim's browser.
  const attacker = await activeAccount(app, { email: "eve@example.com" });
  await activeAccount(app);
  const planted = attacker.cookies.get("session")!;
  const victim = app.browser();
  victim.cookies.set("session", planted);
  const res = await victim.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 303);
  const fresh = victim.cookies.get("session")!;
  assert.notEqual(fresh, planted);
  // The planted id no longer opens anything, so it cannot be ridden later.
  assert.equal((await attacker.get("/account")).status, 303);
  assert.match((await victim.get("/account")).body, /Hello, Ada!/);
  // A made-up id is simply ignored and replaced too.
  const other = app.browser();
  other.cookies.set("session", "A".repeat(43));
  await other.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  assert.notEqual(other.cookies.get("session"), "A".repeat(43));
});

async function signIn(browser: TestBrowser) {
  return await browser.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
}

Deno.test("attacks: no token, password or session id appears in any log line", async () => {
  await using app = await startTestApp({ captureLogs: true });
  const browser = app.browser();
  await browser.register();
  const registered = browser.cookies.get("registered")!;
  const link = await app.activationPath();
  const token = link.slice("/activate/".length);
  await browser.get(link);
  await browser.post(link);
  const firstSession = browser.cookies.get("session")!;
  await browser.post(link); // a second click
  await browser.post("/logout");
  await browser.post("/login", {
    email: "ada@example.com",
    password: "wrong one!!",
  });
  await signIn(browser);
  const secondSession = browser.cookies.get("session")!;
  await browser.get("/account");
  await browser.post(`/activate/${token}x`);
  await browser.post("/logout");
  await app.deps.deliverer.sweep({ minAgeMs: 0 });
  const secrets = {
    password: GOOD_PASSWORD,
    "wrong password": "wrong one!!",
    "activation token": token,
    "token signature": token.split(".")[1],
    "registered cookie": registered,
    "first session id": firstSession,
    "second session id": secondSession,
  };
  assert.ok(app.logLines.length >= 10, `only ${app.logLines.length} lines`);
  for (const [name, secret] of Object.entries(secrets)) {
    const leaks = app.logLines.filter((l) => l.includes(secret));
    assert.deepEqual(leaks, [], `${name} leaked`);
  }
  console.log(
    `${app.logLines.length} log lines over a full flow → 0 of ${
      Object.keys(secrets).length
    } secrets found`,
  );
});

const NAMES = [
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "Ada</title><script>alert(1)</script>",
];

Deno.test("attacks: an HTML first name is refused, and echoed back as text", async () => {
  await using app = await startTestApp();
  for (const name of NAMES) {
    const again = await app.browser().register({ first_name: name });
    assert.equal(again.status, 422);
    assert.match(again.body, /Use letters, spaces and/);
    assert.ok(!again.body.includes(name), "form echo escapes the name");
    assert.ok(unescape(again.body).includes(name));
  }
  assert.deepEqual(await allKeys(app.kv), []);
  assert.equal(app.mailer.sent.length, 0);
});

Deno.test("attacks: a name with an apostrophe is text on every page and in both email bodies", async () => {
  await using app = await startTestApp();
  const name = "O'Brien-Zoë";
  const browser = app.browser();
  const again = await browser.register({ first_name: name, password: "x" });
  assert.equal(again.status, 422);
  assert.ok(unescape(again.body).includes(`value="${name}"`));
  await browser.register({ first_name: name });
  const [mail] = await app.mailer.waitFor(1);
  assert.ok(!mail.html.includes(name), "html mail escapes the name");
  assert.ok(unescape(mail.html).includes(`Hello ${name},`));
  assert.ok(mail.text.includes(`Hello ${name},`));
  await browser.post(await app.activationPath());
  const account = await browser.get("/account");
  assert.equal(account.status, 200);
  assert.ok(unescape(account.body).includes(`Hello, ${name}!`));
});

/** What a browser shows for text or an attribute value. */
function unescape(html: string) {
  return html.replace(
    /&(lt|gt|quot|#39|amp);/g,
    (_, e: string) =>
      ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!,
  );
}
