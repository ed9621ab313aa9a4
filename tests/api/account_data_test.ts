// GET /api/account/export, POST /api/account/delete and
// /api/account/delete/confirm, through real HTTP on a real app.
import { keys } from "../../lib/kv/keys.ts";
import assert from "node:assert/strict";
import { createCheapHasher } from "../model/cheap_hasher.ts";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  outboxDrained,
  startTestApp,
} from "../helpers.ts";

Deno.test("api: export needs a session and answers the personal data as JSON", async () => {
  await using app = await startTestApp({
    passwords: await createCheapHasher(),
  });
  const anonymous = await app.browser().request("GET", "/api/account/export");
  assert.equal(anonymous.status, 401);
  assert.equal(JSON.parse(anonymous.body).error.code, "unauthenticated");

  const client = await createActiveAccount(app);
  const res = await client.request("GET", "/api/account/export");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const data = JSON.parse(res.body);
  assert.equal(data.records.users[0].email, "ada@example.com");
  assert.equal(data.records.sessions.length, 1);
  assert.doesNotMatch(res.body, /argon2/);
});

Deno.test("api: delete asks for the password, mails a token, confirm deletes everything", async () => {
  await using app = await startTestApp({
    passwords: await createCheapHasher(),
  });
  assert.equal(
    (await app.browser().api("/api/account/delete", {
      current_password: GOOD_PASSWORD,
    })).status,
    401,
  );
  const client = await createActiveAccount(app);
  await outboxDrained(app);
  const mailsBefore = app.mailer.sent.length;

  const missing = await client.api("/api/account/delete", {});
  assert.equal(missing.status, 422);
  assert.equal(
    missing.json.error.fields.current_password.code,
    "current_password.required",
  );
  const wrong = await client.api("/api/account/delete", {
    current_password: "not the password",
  });
  assert.equal(wrong.status, 422);
  assert.equal(
    wrong.json.error.fields.current_password.code,
    "current_password.wrong",
  );
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, mailsBefore);

  const asked = await client.api("/api/account/delete", {
    current_password: GOOD_PASSWORD,
  });
  assert.equal(asked.status, 202);
  assert.equal(asked.json.status, "accepted");
  const mail = (await app.mailer.waitFor(mailsBefore + 1))[mailsBefore];
  const token = linkPath(mail.text, "/account/delete/").split("/").at(-1)!;

  const bad = await app.browser().api("/api/account/delete/confirm", {
    token: token.slice(0, -2) + "xx",
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "invalid_token");
  assert.equal(await countPrefix(app.kv, keys.users()), 1);

  // The token is the proof: confirmed from anywhere, no session needed.
  const done = await app.browser().api("/api/account/delete/confirm", {
    token,
  });
  assert.equal(done.status, 200);
  assert.equal(done.json.status, "deleted");
  assert.equal(await countPrefix(app.kv, keys.users()), 0);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 0);
  const me = await client.request("GET", "/api/me");
  assert.equal(me.status, 401);

  const again = await app.browser().api("/api/account/delete/confirm", {
    token,
  });
  assert.equal(again.status, 400);
  assert.equal(again.json.error.code, "invalid_token");

  const goodbye = (await app.mailer.waitFor(mailsBefore + 2))[mailsBefore + 1];
  assert.equal(goodbye.subject, "Your cloud-user account is deleted");
  // The address is free again at once.
  const reg = await app.browser().api("/api/register", {
    first_name: "Ada",
    email: "ada@example.com",
    password: GOOD_PASSWORD,
    password_confirm: GOOD_PASSWORD,
  });
  assert.equal(reg.status, 202);
  await outboxDrained(app);
  assert.equal(await countPrefix(app.kv, keys.users()), 1);
});

Deno.test("api: a second deletion mail within RESEND_INTERVAL gets 429", async () => {
  await using app = await startTestApp({
    passwords: await createCheapHasher(),
  });
  const client = await createActiveAccount(app);
  const body = { current_password: GOOD_PASSWORD };
  assert.equal((await client.api("/api/account/delete", body)).status, 202);
  const second = await client.api("/api/account/delete", body);
  assert.equal(second.status, 429);
  assert.equal(second.json.error.code, "rate_limited");
  assert.ok(Number(second.headers.get("retry-after")) > 0);
});

Deno.test("api: exports per client are limited (RATE_LIMIT_IP), pages and API together", async () => {
  await using app = await startTestApp({
    env: { RATE_LIMIT_IP: "3/15m" },
    passwords: await createCheapHasher(),
  });
  const client = await createActiveAccount(app);
  const statuses = [];
  for (
    const path of ["/account/export", "/api/account/export", "/account/export"]
  ) {
    statuses.push((await client.get(path)).status);
  }
  assert.deepEqual(statuses, [200, 200, 200]);
  const fourth = await client.request("GET", "/api/account/export");
  assert.equal(fourth.status, 429);
  assert.equal(JSON.parse(fourth.body).error.code, "rate_limited");
  assert.ok(Number(fourth.headers.get("retry-after")) > 0);
  assert.equal((await client.get("/account/export")).status, 429);
});
