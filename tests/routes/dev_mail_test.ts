import assert from "node:assert/strict";
import { startTestApp } from "../helpers.ts";
import { freePort } from "../smtp_server.ts";

/**
 * A development app with /dev/mail on, whose APP_ORIGIN is the address the
 * test browser uses (the viewer answers only that Host).
 */
function devMailApp(env: Record<string, string> = {}) {
  const port = freePort();
  return startTestApp({
    env: {
      APP_ENV: "development",
      DEV_MAIL: "1",
      PORT: String(port),
      APP_ORIGIN: `http://127.0.0.1:${port}`,
      ...env,
    },
  });
}

/** One HTTP/1.1 GET with exactly these headers (fetch sets its own Host). */
async function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head = [
    `GET ${pathname} HTTP/1.1`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    "Connection: close",
  ];
  await conn.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
  const answer = await new Response(conn.readable).text();
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0),
    body: answer,
  };
}

Deno.test("dev mail: in development the sent mails are listed with clickable links", async () => {
  await using app = await devMailApp();
  const empty = await app.browser().get("/dev/mail");
  assert.equal(empty.status, 200);
  assert.match(empty.body, /No mail yet/);

  const owner = app.browser();
  await owner.register();
  await app.mailer.waitFor(1);
  const list = await app.browser().get("/dev/mail");
  assert.match(
    list.body,
    /<a href="\/dev\/mail\/1">Activate your cloud-user account<\/a> → ada@example\.com/,
  );
  const mail = await app.browser().get("/dev/mail/1");
  assert.equal(mail.status, 200);
  assert.equal(mail.headers.get("cache-control"), "no-store");
  const link = mail.body.match(
    /<a href="(http:\/\/127\.0\.0\.1:\d+\/activate\/[^"]+)">/,
  );
  assert.ok(link, "the activation link is clickable");
  // The HTML part as sent, its styles on, its links live, nothing run.
  assert.match(mail.body, /<a href="\/dev\/mail\/1\/html">/);
  const html = await app.browser().get("/dev/mail/1/html");
  assert.equal(html.status, 200);
  assert.equal(html.body, (await app.mailer.waitFor(1))[0].html);
  const csp = html.headers.get("content-security-policy") ?? "";
  assert.match(csp, /(^|; )sandbox[ ;]/);
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /script-src|allow-scripts|allow-same-origin/);
  assert.equal(html.headers.get("x-content-type-options"), "nosniff");
  assert.equal(html.headers.get("cache-control"), "no-store");
  assert.match(html.body, /<a href="http:\/\/127\.0\.0\.1:\d+\/activate\//);
  assert.equal((await app.browser().get("/dev/mail/99/html")).status, 404);
  // The link it shows is the link that works.
  const res = await owner.post(new URL(link[1]).pathname);
  assert.equal(res.location, "/account");
  assert.equal((await app.browser().get("/dev/mail/99")).status, 404);
});

for (
  const [what, env] of [
    ["test", { APP_ENV: "test", DEV_MAIL: "1" }],
    ["development without DEV_MAIL", { APP_ENV: "development" }],
    ["development with SMTP", {
      APP_ENV: "development",
      DEV_MAIL: "1",
      MAIL_BACKEND: "smtp",
    }],
    ["production", {
      APP_ENV: "production",
      DEV_MAIL: "1",
      // Production refuses :memory:; the test hands the app its own KV anyway.
      KV_PATH: "data/never-opened-by-this-test.sqlite3",
      MAIL_BACKEND: "smtp",
      APP_ORIGIN: "https://app.test",
    }],
  ] as const
) {
  Deno.test(`dev mail: does not exist in ${what}`, async () => {
    await using app = await startTestApp({ env });
    // With the memory backend there is a mail it could have listed; with
    // SMTP (nothing listens here) the backend alone must keep it away.
    if (!("MAIL_BACKEND" in env)) {
      await app.browser().register();
      await app.mailer.waitFor(1);
    }
    for (const path of ["/dev/mail", "/dev/mail/1", "/dev/mail/1/html"]) {
      const res = await app.browser().get(path);
      assert.equal(res.status, 404);
      assert.doesNotMatch(res.body, /ada@example\.com/);
    }
  });
}

Deno.test("dev mail: refused under another Host name (DNS rebinding) or through a proxy", async () => {
  await using app = await devMailApp();
  await app.browser().register();
  await app.mailer.waitFor(1);
  const host = new URL(app.url).host;
  const refused: Record<string, string>[] = [
    { host: "rebind.attacker.example" },
    { host: `rebind.attacker.example:${new URL(app.url).port}` },
    { host: `localhost:${new URL(app.url).port}` },
    { host, "x-forwarded-for": "127.0.0.1" },
    { host, "x-forwarded-host": host },
    { host, "x-forwarded-proto": "http" },
    { host, forwarded: "for=127.0.0.1" },
    { host, "x-real-ip": "127.0.0.1" },
  ];
  for (const headers of refused) {
    for (const path of ["/dev/mail", "/dev/mail/1", "/dev/mail/1/html"]) {
      const res = await rawGet(new URL(path, app.url).href, headers);
      assert.equal(res.status, 404, `${path} ${JSON.stringify(headers)}`);
      assert.doesNotMatch(res.body, /ada@example\.com|\/activate\//);
    }
  }
  // The developer's own request, straight and under APP_ORIGIN's host.
  const own = await rawGet(new URL("/dev/mail/1", app.url).href, { host });
  assert.equal(own.status, 200);
});
