import { API_ERRORS } from "../../lib/web/api.ts";
import assert from "node:assert/strict";
import {
  countPrefix,
  GOOD_PASSWORD,
  linkPath,
  outboxDrained,
  startTestApp,
  type TestApp,
} from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

const ADA = {
  first_name: "Ada",
  email: "ada@example.com",
  password: GOOD_PASSWORD,
  password_confirm: GOOD_PASSWORD,
};

function tokenOf(path: string) {
  return path.split("/").at(-1)!;
}

async function activeViaApi(app: TestApp) {
  const client = app.browser();
  assert.equal((await client.api("/api/register", ADA)).status, 202);
  const path = await app.activationPath(1);
  const res = await client.api("/api/activate", {
    token: tokenOf(path),
    current_password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 200);
  return client;
}

Deno.test("api: register, activate, me, logout, me", async () => {
  await using app = await startTestApp();
  const client = app.browser();
  const reg = await client.api("/api/register", ADA);
  assert.equal(reg.status, 202);
  assert.match(reg.headers.get("content-type")!, /application\/json/);
  assert.equal(reg.json.status, "accepted");

  const token = tokenOf(await app.activationPath(1));
  // The token alone proves only the mailbox: the account's password too.
  const bare = await client.api("/api/activate", { token });
  assert.equal(bare.status, 422);
  assert.equal(bare.json.error.code, "password_required");
  assert.deepEqual(Object.keys(bare.json.error.fields).sort(), [
    "current_password",
    "password",
  ]);
  const wrong = await client.api("/api/activate", {
    token,
    current_password: "not the password at all",
  });
  assert.equal(wrong.status, 422);
  assert.equal(
    wrong.json.error.fields.current_password.code,
    "activate.wrong_password",
  );
  assert.equal((await client.get("/api/me")).status, 401);
  const act = await client.api("/api/activate", {
    token,
    current_password: GOOD_PASSWORD,
  });
  assert.equal(act.status, 200);
  assert.equal(act.json.user.email, "ada@example.com");
  assert.equal(act.json.user.first_name, "Ada");
  assert.ok(!JSON.stringify(act.json).includes("argon2"));

  const me = await client.get("/api/me");
  assert.equal(me.status, 200);
  assert.equal(JSON.parse(me.body).user.email, "ada@example.com");
  assert.equal(me.headers.get("cache-control"), "no-store");

  const again = await client.api("/api/activate", {
    token,
    current_password: GOOD_PASSWORD,
  });
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, "already_active");

  assert.equal((await client.api("/api/logout")).status, 204);
  const after = await client.get("/api/me");
  assert.equal(after.status, 401);
  assert.deepEqual(JSON.parse(after.body), {
    error: { code: "unauthenticated", message: "Sign in first.", fields: {} },
  });
});

Deno.test("api: a contested address activates only with a new password", async () => {
  await using app = await startTestApp();
  const NEW_PW = "the mailbox owner decides";
  const client = app.browser();
  assert.equal((await client.api("/api/register", ADA)).status, 202);
  await app.mailer.waitFor(1);
  app.clock.advance(3 * 60_000);
  // Someone registers the pending address again (a new mail goes out).
  const other = {
    ...ADA,
    password: "someone elses phrase",
    password_confirm: "someone elses phrase",
  };
  assert.equal((await app.browser().api("/api/register", other)).status, 202);
  const token = tokenOf(await app.activationPath(2));

  const bare = await client.api("/api/activate", { token });
  assert.equal(bare.status, 422);
  assert.equal(bare.json.error.code, "password_required");
  assert.equal(bare.json.error.fields.password.code, "password.required");
  const weak = await client.api("/api/activate", {
    token,
    password: "short",
    password_confirm: "short",
  });
  assert.equal(weak.status, 422);
  assert.equal(weak.json.error.fields.password.code, "password.too_short");
  assert.equal((await client.get("/api/me")).status, 401);

  const act = await client.api("/api/activate", {
    token,
    password: NEW_PW,
    password_confirm: NEW_PW,
  });
  assert.equal(act.status, 200);
  assert.equal((await client.get("/api/me")).status, 200);
  const login = (password: string) =>
    app.browser().api("/api/login", { email: ADA.email, password });
  assert.equal((await login(other.password)).status, 401);
  assert.equal((await login(NEW_PW)).status, 200);
});

Deno.test("api: validation errors name each field with a code and a message", async () => {
  await using app = await startTestApp();
  const res = await app.browser().api("/api/register", {
    ...ADA,
    email: "ada@",
    password_confirm: "x",
  });
  assert.equal(res.status, 422);
  assert.equal(res.json.error.code, "validation_failed");
  assert.deepEqual(res.json.error.fields.email, {
    code: "email.invalid",
    message: "Enter an email address like name@example.com.",
  });
  assert.equal(
    res.json.error.fields.password_confirm.code,
    "password_confirm.mismatch",
  );
  assert.deepEqual(await countPrefix(app.kv, []), 0);
});

Deno.test("api: wrong bodies get 400, 413 and 415 in the error shape", async () => {
  await using app = await startTestApp();
  const b = app.browser();
  const cases: [number, string, Parameters<typeof b.request>[2]][] = [
    [400, "invalid_json", {
      json: undefined,
      headers: { "content-type": "application/json" },
    }],
    [400, "invalid_json", { json: [1, 2] }],
    [415, "unsupported_media_type", { form: { email: "a@b.io" } }],
    [413, "too_large", { json: { email: "a".repeat(70_000) } }],
  ];
  for (const [status, code, init] of cases) {
    const res = await b.request("POST", "/api/login", init);
    assert.equal(res.status, status, code);
    assert.equal(JSON.parse(res.body).error.code, code);
  }
  const missing = await b.get("/api/nope");
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).error.code, "not_found");
});

Deno.test("api: a JSON post from another site is refused before anything runs", async () => {
  await using app = await startTestApp();
  const b = app.browser();
  for (
    const headers of <Record<string, string>[]> [
      { origin: "https://attacker.example.com" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ]
  ) {
    const res = await b.api("/api/register", ADA, headers);
    assert.equal(res.status, 403, JSON.stringify(headers));
    assert.equal(res.json.error.code, "cross_site");
  }
  // A cross-site text/plain post (no preflight) is caught by the CSRF guard.
  const plain = await b.request("POST", "/api/register", {
    headers: {
      origin: "https://attacker.example.com",
      "content-type": "text/plain",
    },
  });
  assert.equal(plain.status, 403);
  assert.equal(JSON.parse(plain.body).error.code, "forbidden");
  assert.equal(await countPrefix(app.kv, keys.users()), 0);
  // Same origin, and a client that is not a browser (no Origin), pass.
  const ok = await fetch(new URL("/api/activation/resend", app.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "x@example.com" }),
  });
  assert.equal(ok.status, 202);
  await ok.body?.cancel();
});

Deno.test("api: login failures, pending accounts and the slow-down", async () => {
  await using app = await startTestApp();
  const b = app.browser();
  await b.api("/api/register", ADA);
  await outboxDrained(app);
  app.clock.advance(3 * 60_000);
  // The right password on a pending account answers like a wrong one
  // (otherwise "register, then sign in" tells whether it had an account)
  // and its owner quietly gets a fresh link.
  const pending = await b.api("/api/login", {
    email: ADA.email,
    password: GOOD_PASSWORD,
  });
  const wrong = await b.api("/api/login", {
    email: ADA.email,
    password: "nope nope",
  });
  const unknown = await b.api("/api/login", {
    email: "no@example.com",
    password: "nope nope",
  });
  assert.equal(pending.status, 401);
  assert.equal(wrong.status, 401);
  assert.deepEqual(pending.json, wrong.json);
  assert.deepEqual(wrong.json, unknown.json);
  await outboxDrained(app);
  assert.deepEqual(app.mailer.sent.map((m) => m.to), [
    ADA.email,
    ADA.email,
  ]);
  // Counted like a failure: one more, and the next one waits.
  await b.api("/api/login", { email: ADA.email, password: "nope nope" });
  const slowed = await b.api("/api/login", {
    email: ADA.email,
    password: "nope nope",
  });
  assert.equal(slowed.status, 429);
  assert.equal(slowed.json.error.code, "rate_limited");
  assert.ok(Number(slowed.headers.get("retry-after")) >= 1);
});

Deno.test("api: login sets the session cookie and /me answers", async () => {
  await using app = await startTestApp();
  await activeViaApi(app);
  const b = app.browser();
  const res = await b.api("/api/login", {
    email: "ADA@example.com",
    password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 200);
  assert.equal(res.json.user.email, "ada@example.com");
  assert.match(res.headers.getSetCookie()[0], /^session=.*HttpOnly/);
  assert.equal((await b.get("/api/me")).status, 200);
});

Deno.test("api: resend and forgot answer 202 alike for every address", async () => {
  await using app = await startTestApp();
  await activeViaApi(app);
  await app.browser().api("/api/register", {
    ...ADA,
    email: "pending@example.com",
  });
  await outboxDrained(app);
  const before = app.mailer.sent.length;
  for (const path of ["/api/activation/resend", "/api/password/forgot"]) {
    const bodies = [];
    for (const email of ["ada@", "pending@", "nobody@"]) {
      const res = await app.browser().api(path, {
        email: `${email}example.com`,
      });
      assert.equal(res.status, 202);
      bodies.push(res.body);
    }
    assert.equal(new Set(bodies).size, 1, path);
  }
  await outboxDrained(app);
  assert.deepEqual(
    app.mailer.sent.slice(before).map((m) => `${m.to} ${m.subject}`).sort(),
    [
      "ada@example.com Reset your cloud-user password",
      "pending@example.com Activate your cloud-user account",
    ],
  );
});

Deno.test("api: a reset token sets the password once and signs in", async () => {
  await using app = await startTestApp();
  const other = await activeViaApi(app);
  await app.browser().api("/api/password/forgot", { email: ADA.email });
  const mails = await app.mailer.waitFor(2);
  const token = tokenOf(linkPath(mails[1].text, "/password/reset/"));
  const b = app.browser();
  const weak = await b.api("/api/password/reset", {
    token,
    password: "password123",
    password_confirm: "password123",
  });
  assert.equal(weak.status, 422);
  assert.equal(weak.json.error.fields.password.code, "password.weak_common");
  const body = {
    token,
    password: "a brand new passphrase",
    password_confirm: "a brand new passphrase",
  };
  const res = await b.api("/api/password/reset", body);
  assert.equal(res.status, 200);
  assert.equal((await b.get("/api/me")).status, 200);
  assert.equal((await other.get("/api/me")).status, 401);
  const reused = await b.api("/api/password/reset", body);
  assert.equal(reused.status, 400);
  assert.equal(reused.json.error.code, "invalid_token");
});

Deno.test("api: over the limit is 429 with Retry-After", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_EMAIL: "1/1m" } });
  const b = app.browser();
  assert.equal(
    (await b.api("/api/password/forgot", { email: "a@example.com" })).status,
    202,
  );
  const res = await b.api("/api/password/forgot", { email: "a@example.com" });
  assert.equal(res.status, 429);
  assert.equal(res.json.error.code, "rate_limited");
  assert.ok(Number(res.headers.get("retry-after")) >= 1);
});

Deno.test("api: docs/api.md lists every error code under its one status", async () => {
  const docs = await Deno.readTextFile(
    new URL("../../docs/api.md", import.meta.url),
  );
  const listed = new Map<string, number>();
  for (const [, status, codes] of docs.matchAll(/^\| (\d{3}) +\| (.+)\|$/gm)) {
    for (const [, code] of codes.matchAll(/`([a-z_]+)`/g)) {
      listed.set(code, Number(status));
    }
  }
  assert.deepEqual(Object.fromEntries(listed), { ...API_ERRORS });
});

Deno.test("api: activating signs the client out of the account it had, in the same commit", async () => {
  await using app = await startTestApp();
  const client = await activeViaApi(app);
  const ada = (await app.kv.get<string>(keys.userByEmail(ADA.email))).value!;
  assert.equal(await countPrefix(app.kv, keys.userSessions(ada)), 1);
  const grace = { ...ADA, first_name: "Grace", email: "grace@example.com" };
  assert.equal((await client.api("/api/register", grace)).status, 202);
  const act = await client.api("/api/activate", {
    token: tokenOf(await app.activationPath(2)),
    current_password: GOOD_PASSWORD,
  });
  assert.equal(act.status, 200);
  assert.equal(act.json.user.email, "grace@example.com");
  assert.equal(await countPrefix(app.kv, keys.userSessions(ada)), 0);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  const me = await client.get("/api/me");
  assert.equal(JSON.parse(me.body).user.email, "grace@example.com");
});
