// SHUTDOWN_GRACE on a real process: a mail stuck on a relay that never
// answers does not hold SIGTERM up; after the grace the process exits, and
// the outbox entry is still there for the next attempt.
import assert from "node:assert/strict";
import { spawnApp, waitFor } from "./process.ts";
import { GOOD_PASSWORD } from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

Deno.test("shutdown: after SHUTDOWN_GRACE what still runs is abandoned and the process exits", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  // A relay that takes the connection and never says hello: the send hangs
  // for the mailer's own 10 s greeting timeout.
  const relay = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of relay) held.push(conn);
  })();
  const app = await spawnApp({
    KV_PATH: kvPath,
    MAIL_BACKEND: "smtp",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String((relay.addr as Deno.NetAddr).port),
    SIGNAL_QUEUE: "none",
    SHUTDOWN_GRACE: "1s",
    LOG_LEVEL: "info",
  });
  try {
    const res = await fetch(new URL("/register", app.url), {
      method: "POST",
      headers: {
        origin: app.url,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        first_name: "Ada",
        email: "ada@example.com",
        password: GOOD_PASSWORD,
        password_confirm: GOOD_PASSWORD,
      }),
      redirect: "manual",
    });
    assert.equal(res.status, 303);
    await res.body?.cancel();
    await waitFor(
      "the send to hang on the relay",
      () => held.length > 0,
      10_000,
    );

    const signalled = performance.now();
    app.kill("SIGTERM");
    const status = await app.exited;
    const seconds = (performance.now() - signalled) / 1000;
    assert.equal(status.code, 0, app.output.join("\n"));
    assert.ok(seconds < 5, `took ${seconds} s`);
    assert.match(app.output.join("\n"), /grace period over/);

    const kv = await Deno.openKv(kvPath);
    try {
      const outbox = [];
      for await (const e of kv.list({ prefix: keys.outbox() })) outbox.push(e);
      assert.equal(outbox.length, 1, "the mail waits for its next attempt");
    } finally {
      kv.close();
    }
  } finally {
    app.kill("SIGKILL");
    await app.exited;
    relay.close();
    for (const conn of held) conn.close();
    await Deno.remove(dir, { recursive: true });
  }
});
