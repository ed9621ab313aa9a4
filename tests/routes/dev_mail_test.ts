import assert from "node:assert/strict";
import { startTestApp } from "../helpers.ts";

Deno.test("dev mail: in development the sent mails are listed with clickable links", async () => {
  await using app = await startTestApp({ env: { APP_ENV: "development" } });
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
    /<a href="(http:\/\/app\.test\/activate\/[^"]+)">/,
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
  assert.match(html.body, /<a href="http:\/\/app\.test\/activate\/[^"]+"/);
  assert.equal((await app.browser().get("/dev/mail/99/html")).status, 404);
  // The link it shows is the link that works.
  const res = await owner.post(new URL(link[1]).pathname);
  assert.equal(res.location, "/account");
  assert.equal((await app.browser().get("/dev/mail/99")).status, 404);
});

for (
  const [what, env] of [
    ["test", { APP_ENV: "test" }],
    ["development with SMTP", {
      APP_ENV: "development",
      MAIL_BACKEND: "smtp",
    }],
    ["production", {
      APP_ENV: "production",
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
