// DNS rebinding: evil.example is pointed at our address, so the browser sends
// `Origin: http://evil.example` with `Host: evil.example` and, since the page
// and the request share that name, `Sec-Fetch-Site: same-origin`. In
// production only APP_ORIGIN may post; elsewhere the request's own origin
// counts too (development on 127.0.0.1 or localhost).
import assert from "node:assert/strict";
import { silentLogger } from "../../lib/log.ts";
import { createMemoryMailer } from "../../lib/mail/memory.ts";
import { startApp } from "../../lib/server.ts";
import { allKeys, TEST_ORIGIN, TestClock, testConfig } from "../helpers.ts";

async function appIn(env: "production" | "test") {
  const config = { ...testConfig(), env };
  const kv = await Deno.openKv(":memory:");
  const app = await startApp(config, {
    kv,
    mailer: createMemoryMailer({ from: config.mail.from }),
    clock: new TestClock(),
    log: silentLogger,
    sweep: false,
  });
  return {
    ...app,
    kv,
    [Symbol.asyncDispose]: () => app.shutdown(),
  };
}

/** A post as the rebinding page sends it: its own name as Host and Origin. */
async function post(
  url: string,
  path: string,
  origin: string,
  json: boolean,
): Promise<number> {
  const res = await fetch(new URL(path, url), {
    method: "POST",
    headers: {
      origin,
      "sec-fetch-site": "same-origin",
      "content-type": json
        ? "application/json"
        : "application/x-www-form-urlencoded",
    },
    body: json
      ? JSON.stringify({ email: "ada@example.com", password: "x" })
      : "email=ada%40example.com&password=x",
    redirect: "manual",
  });
  await res.body?.cancel();
  return res.status;
}

const CASES: [string, boolean][] = [
  ["/login", false],
  ["/register", false],
  ["/activate/resend", false],
  ["/password/forgot", false],
  ["/api/login", true],
  ["/api/register", true],
  ["/api/password/forgot", true],
];

Deno.test("origins: in production an origin from the Host header is refused, APP_ORIGIN is not", async () => {
  await using app = await appIn("production");
  // The request's own origin is what Host says: the rebound name.
  const rebound = new URL(app.url).origin;
  for (const [path, json] of CASES) {
    assert.equal(await post(app.url, path, rebound, json), 403, path);
  }
  assert.deepEqual(await allKeys(app.kv), []);
  for (const [path, json] of CASES) {
    const status = await post(app.url, path, TEST_ORIGIN, json);
    assert.notEqual(status, 403, path);
  }
});

Deno.test("origins: outside production the request's own origin still counts", async () => {
  await using app = await appIn("test");
  const own = new URL(app.url).origin;
  for (const [path, json] of CASES) {
    assert.notEqual(await post(app.url, path, own, json), 403, path);
  }
  assert.equal(
    await post(app.url, "/login", "https://evil.example", false),
    403,
  );
});
