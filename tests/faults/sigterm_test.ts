// SIGTERM on a real process: it stops accepting, answers the request in
// flight, lets the mail in flight finish, and closes KV, within seconds.
import assert from "node:assert/strict";
import { countByRecipient, startSmtpServer } from "../smtp_server.ts";
import { spawnApp, waitFor } from "./process.ts";
import { GOOD_PASSWORD } from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

function register(url: string, email: string) {
  return fetch(new URL("/register", url), {
    method: "POST",
    headers: {
      origin: url,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      first_name: "Ada",
      email,
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
    }),
    redirect: "manual",
  });
}

Deno.test("sigterm: finishes the request and the mail in flight, then exits cleanly", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  let release = () => {};
  const held = new Promise<void>((r) => release = r);
  // The relay takes its time with the first mail, so it is in flight.
  const started: string[] = [];
  const smtp = await startSmtpServer({}, {
    beforeAccept: async (mail) => {
      started.push(...mail.rcptTo);
      await held;
    },
  });
  const app = await spawnApp({
    KV_PATH: kvPath,
    MAIL_BACKEND: "smtp",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
  });
  try {
    assert.equal((await register(app.url, "first@example.com")).status, 303);
    await waitFor(
      "the first mail to be in flight",
      () => started.length > 0,
      10_000,
    );

    // A request in flight (Argon2id takes a while) when the signal lands.
    const second = register(app.url, "second@example.com");
    await new Promise((r) => setTimeout(r, 20));
    const signalled = performance.now();
    app.kill("SIGTERM");
    setTimeout(release, 500);

    const res = await second;
    assert.equal(res.status, 303, "the request in flight is answered");
    await res.body?.cancel();
    const status = await app.exited;
    const seconds = (performance.now() - signalled) / 1000;
    assert.equal(status.code, 0, app.output.join("\n"));
    assert.ok(seconds < 5, `took ${seconds} s`);
    assert.ok(
      countByRecipient(smtp.received).get("first@example.com") === 1,
      "the mail in flight finished",
    );
    await assert.rejects(fetch(app.url), "no longer accepting");

    // KV was closed cleanly: it opens, and the first mail counts as sent.
    const kv = await Deno.openKv(kvPath);
    try {
      const outbox = [];
      for await (const e of kv.list({ prefix: keys.outbox() })) outbox.push(e);
      const users = [];
      for await (const e of kv.list({ prefix: keys.users() })) users.push(e);
      assert.equal(users.length, 2, "both registrations stored");
      assert.ok(outbox.length <= 1, `${outbox.length} signals left`);
      console.log(
        `SIGTERM with 1 request and 1 mail in flight → exit 0 in ${
          seconds.toFixed(2)
        } s (mail held 0.5 s), request answered 303, ${smtp.received.length} mail finished, ${outbox.length} signal left for the next start`,
      );
    } finally {
      kv.close();
    }
  } finally {
    release();
    app.kill("SIGKILL");
    await app.exited.catch(() => {});
    await smtp.close();
    await Deno.remove(dir, { recursive: true });
  }
});
