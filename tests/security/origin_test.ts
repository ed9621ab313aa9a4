// DNS rebinding: evil.example is pointed at our address, so the browser sends
// `Origin: http://evil.example` with `Host: evil.example` and, since the page
// and the request share that name, `Sec-Fetch-Site: same-origin`. In
// production only APP_ORIGIN may post; elsewhere the request's own origin
// counts too (development on 127.0.0.1 or localhost).
import assert from "node:assert/strict";
import { silentLogger } from "../../lib/app/log.ts";
import { createMemoryMailer } from "../../lib/mail/memory.ts";
import { startApp } from "../../lib/app/server.ts";
import { allKeys, TEST_ORIGIN, TestClock, testConfig } from "../helpers.ts";

async function appIn(env: "production" | "test") {
  const config = { ...testConfig(), env };
  const kv = await Deno.openKv(":memory:");
  const app = await startApp(config, {
    kv,
    mailer: createMemoryMailer({ from: config.mail.from }),
    clock: new TestClock(),
    log: silentLogger,
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

/**
 * A form post as sent over the wire, with a Host header of our choosing
 * (fetch always sends the URL's own host). Returns the status code.
 */
async function rawPost(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const body = "email=ada%40example.com&password=x";
  const head = Object.entries({
    ...headers,
    "content-type": "application/x-www-form-urlencoded",
    "content-length": String(body.length),
    connection: "close",
  }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  await conn.write(
    new TextEncoder().encode(`POST ${path} HTTP/1.1\r\n${head}\r\n${body}`),
  );
  const reply = await new Response(conn.readable).text();
  return Number(reply.match(/^HTTP\/1\.1 (\d{3})/)![1]);
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

Deno.test("origins: our pages' form posts (Origin null, same-origin) pass in production only on APP_ORIGIN's host", async () => {
  await using app = await appIn("production");
  const ours = new URL(TEST_ORIGIN).host;
  const rebound = new URL(app.url).host;
  // What a form on our own page sends: its Referrer-Policy (no-referrer)
  // makes the browser send `Origin: null`.
  const fromPage = { origin: "null", "sec-fetch-site": "same-origin" };
  // The same post through a rebound name: Host is the attacker's.
  assert.equal(
    await rawPost(app.url, "/login", { host: rebound, ...fromPage }),
    403,
  );
  assert.equal(
    await rawPost(app.url, "/login", {
      host: rebound,
      "sec-fetch-site": "same-origin",
    }),
    403,
  );
  assert.deepEqual(await allKeys(app.kv), []);
  assert.notEqual(
    await rawPost(app.url, "/login", { host: ours, ...fromPage }),
    403,
  );
});

Deno.test("origins: outside production a form post with Origin null from our page passes", async () => {
  await using app = await appIn("test");
  assert.notEqual(
    await rawPost(app.url, "/login", {
      host: new URL(app.url).host,
      origin: "null",
      "sec-fetch-site": "same-origin",
    }),
    403,
  );
});
