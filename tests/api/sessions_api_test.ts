// /api/sessions: list, end one (DELETE), end the others, only one's own.
import assert from "node:assert/strict";
import { listAuditEvents } from "../../lib/accounts/audit.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  startTestApp,
  type TestApp,
} from "../helpers.ts";

const CURL = "curl/8.5.0";

async function apiSignIn(app: TestApp, email = "ada@example.com") {
  const client = app.browser();
  const res = await client.request("POST", "/api/login", {
    json: { email, password: GOOD_PASSWORD },
    headers: { "user-agent": CURL },
  });
  assert.equal(res.status, 200);
  return client;
}

async function sessionsOf(client: ReturnType<TestApp["browser"]>) {
  const res = await client.get("/api/sessions");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  return JSON.parse(res.body).sessions;
}

async function userIdOf(app: TestApp, email: string) {
  return (await app.kv.get<string>(keys.userByEmail(email))).value!;
}

Deno.test("api sessions: the list shows each session's device, network and times, this one marked", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const client = await apiSignIn(app);
  const sessions = await sessionsOf(client);
  assert.equal(sessions.length, 2);
  const [mine, other] = sessions;
  assert.deepEqual(Object.keys(mine).sort(), [
    "address",
    "browser",
    "created_at",
    "current",
    "id",
    "last_used_at",
    "os",
  ]);
  assert.equal(mine.current, true);
  assert.equal(mine.browser, "curl 8");
  assert.equal(mine.os, null);
  assert.equal(mine.address, "127.0.0.x");
  assert.equal(mine.created_at, new Date(app.clock.now()).toISOString());
  assert.equal(other.current, false);
  assert.match(other.id, /^[0-9a-f]{64}$/);
});

Deno.test("api sessions: DELETE ends that session; its client is signed out", async () => {
  await using app = await startTestApp();
  const first = await createActiveAccount(app);
  const client = await apiSignIn(app);
  const [, other] = await sessionsOf(client);
  const res = await client.request("DELETE", `/api/sessions/${other.id}`);
  assert.equal(res.status, 204);
  assert.equal((await first.get("/api/me")).status, 401);
  assert.equal((await client.get("/api/me")).status, 200);
  const again = await client.request("DELETE", `/api/sessions/${other.id}`);
  assert.equal(again.status, 404);
  assert.equal(JSON.parse(again.body).error.code, "not_found");
  const [event] = await listAuditEvents(
    app.kv,
    await userIdOf(app, "ada@example.com"),
    { limit: 1 },
  );
  assert.equal(event.type, "session_ended");
  assert.equal(event.client.browser, "Deno 2");
});

Deno.test("api sessions: Mallory's session id in Ada's DELETE is 404 and nothing ends", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  await createActiveAccount(app, { email: "mallory@evil.test" });
  const ada = await apiSignIn(app);
  const mallory = await apiSignIn(app, "mallory@evil.test");
  const his = (await sessionsOf(mallory))[0].id;
  const before = await countPrefix(app.kv, ["sessions"]);
  const adaId = await userIdOf(app, "ada@example.com");
  const eventsBefore = (await listAuditEvents(app.kv, adaId)).length;
  const res = await ada.request("DELETE", `/api/sessions/${his}`);
  assert.equal(res.status, 404);
  assert.equal(JSON.parse(res.body).error.code, "not_found");
  assert.equal(await countPrefix(app.kv, ["sessions"]), before);
  assert.equal((await mallory.get("/api/me")).status, 200);
  assert.equal((await listAuditEvents(app.kv, adaId)).length, eventsBefore);
  for (const id of ["x", "0".repeat(64), "%2E%2E"]) {
    assert.equal(
      (await ada.request("DELETE", `/api/sessions/${id}`)).status,
      404,
    );
  }
});

Deno.test("api sessions: DELETE of this client's own session signs it out and clears the cookie", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const client = await apiSignIn(app);
  const [mine] = await sessionsOf(client);
  const res = await client.request("DELETE", `/api/sessions/${mine.id}`);
  assert.equal(res.status, 204);
  assert.match(res.headers.get("set-cookie") ?? "", /session=;.*Max-Age=0/i);
  assert.equal((await client.get("/api/me")).status, 401);
});

Deno.test("api sessions: revoke-others ends every other session and says how many", async () => {
  await using app = await startTestApp();
  const first = await createActiveAccount(app);
  const second = await apiSignIn(app);
  const client = await apiSignIn(app);
  const res = await client.api("/api/sessions/revoke-others");
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { ended: 2 });
  for (const other of [first, second]) {
    assert.equal((await other.get("/api/me")).status, 401);
  }
  assert.equal((await sessionsOf(client)).length, 1);
  const again = await client.api("/api/sessions/revoke-others");
  assert.deepEqual(again.json, { ended: 0 });
});

Deno.test("api sessions: signed out is 401; another site is refused before anything ends", async () => {
  await using app = await startTestApp();
  const stranger = app.browser();
  assert.equal((await stranger.get("/api/sessions")).status, 401);
  assert.equal(
    (await stranger.request("DELETE", `/api/sessions/${"a".repeat(64)}`))
      .status,
    401,
  );
  assert.equal(
    (await stranger.api("/api/sessions/revoke-others")).json.error.code,
    "unauthenticated",
  );
  await createActiveAccount(app);
  const client = await apiSignIn(app);
  const [, other] = await sessionsOf(client);
  const cross = await client.request("DELETE", `/api/sessions/${other.id}`, {
    headers: { origin: "https://evil.test" },
  });
  assert.equal(cross.status, 403);
  const site = await client.request("POST", "/api/sessions/revoke-others", {
    json: {},
    headers: { "sec-fetch-site": "cross-site" },
  });
  assert.equal(site.status, 403);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 2);
});

Deno.test("api sessions: a reset through the API is recorded and leaves only its own session", async () => {
  await using app = await startTestApp();
  const first = await createActiveAccount(app);
  const b = app.browser();
  await b.api("/api/password/forgot", { email: "ada@example.com" });
  const mails = await app.mailer.waitFor(2);
  const token = linkPath(mails[1].text, "/password/reset/").split("/").at(-1);
  const NEW = "another long passphrase";
  const res = await b.request("POST", "/api/password/reset", {
    json: { token, password: NEW, password_confirm: NEW },
    headers: { "user-agent": CURL },
  });
  assert.equal(res.status, 200);
  assert.equal((await first.get("/api/me")).status, 401);
  const sessions = await sessionsOf(b);
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].browser, "curl 8", "the device that reset");
  const [event] = await listAuditEvents(
    app.kv,
    await userIdOf(app, "ada@example.com"),
    { limit: 1 },
  );
  assert.equal(event.type, "password_reset");
  assert.equal(event.client.browser, "curl 8");
});
