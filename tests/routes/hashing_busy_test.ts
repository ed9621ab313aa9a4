// A full hashing queue (every PASSWORD_WORKERS slot busy, PASSWORD_QUEUE_LIMIT
// jobs waiting) answers 503 with Retry-After at once, pages and API alike,
// and writes nothing: the request can simply be sent again.
import assert from "node:assert/strict";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  startTestApp,
  type TestApp,
} from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

/**
 * Keeps the only hashing slot busy. Each hash starts in the same microtask
 * checkpoint as the previous one ends, so no request's hash slips between.
 */
function hogHasher(app: TestApp) {
  let on = true;
  const done = (async () => {
    while (on) await app.deps.passwords.hash("hog");
  })();
  return async () => {
    on = false;
    await done;
  };
}

const stored = async (app: TestApp) => ({
  users: await countPrefix(app.kv, keys.users()),
  byEmail: await countPrefix(app.kv, ["users_by_email"]),
  outbox: await countPrefix(app.kv, keys.outbox()),
  sessions: await countPrefix(app.kv, ["sessions"]),
});

Deno.test("hashing: a full queue answers 503 + Retry-After and writes nothing", async () => {
  await using app = await startTestApp({
    env: { PASSWORD_WORKERS: "1", PASSWORD_QUEUE_LIMIT: "0" },
  });
  await createActiveAccount(app, { email: "ada@example.com" });
  const before = await stored(app);
  const stop = hogHasher(app);
  try {
    const page = await app.browser().register({ email: "new@example.com" });
    assert.equal(page.status, 503);
    assert.ok(Number(page.headers.get("retry-after")) >= 1);
    assert.match(page.body, /Too busy right now/);
    assert.doesNotMatch(page.body, /at .*\.ts/);

    const api = await app.browser().api("/api/register", {
      first_name: "Bo",
      email: "api@example.com",
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
    });
    assert.equal(api.status, 503);
    assert.ok(Number(api.headers.get("retry-after")) >= 1);
    assert.equal(api.json.error.code, "unavailable");

    const login = await app.browser().post("/login", {
      email: "ada@example.com",
      password: GOOD_PASSWORD,
    });
    assert.equal(login.status, 503);
    assert.equal(login.headers.getSetCookie().length, 0);

    assert.deepEqual(await stored(app), before);
    const health = await (await fetch(`${app.url}/healthz`)).json();
    assert.equal(health.status, "ok");
  } finally {
    await stop();
  }
  // Once the wave passes, the same request goes through.
  const again = await app.browser().register({ email: "new@example.com" });
  assert.equal(again.status, 303);
});
