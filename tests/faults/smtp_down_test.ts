// The relay is down while people register, then comes back: every mail
// arrives once, and meanwhile the outbox shows operators what failed.
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import type { OutboxEntry } from "../../lib/outbox/signals.ts";
import { countPrefix } from "../helpers.ts";
import {
  countByRecipient,
  type Received,
  startSmtpServer,
} from "../smtp_server.ts";
import { startFaultApp } from "./fault_app.ts";
import { seedRegistrations } from "./seed.ts";
import { checkStore } from "./store_check.ts";

const BY_HTTP = 10;
const SEEDED = 90;

async function outbox(kv: Deno.Kv): Promise<OutboxEntry[]> {
  const out: OutboxEntry[] = [];
  for await (const e of kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
    out.push(e.value);
  }
  return out;
}

Deno.test("smtp down: 100 registrations while the relay is down all arrive once after it returns", async () => {
  const received: Received[] = [];
  const first = await startSmtpServer({}, { received });
  const port = first.port;
  await first.close(); // down from the start
  await using app = await startFaultApp({
    // No queue: the register route tries at once and the sweep retries,
    // both on the test's clock.
    env: {
      MAIL_BACKEND: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(port),
      SIGNAL_QUEUE: "none",
      PASSWORD_WORKERS: "2",
    },
  });
  // Ten people through the form (each is answered normally) …
  const answers = await Promise.all(
    Array.from(
      { length: BY_HTTP },
      (_, i) => app.browser().register({ email: `web${i}@example.com` }),
    ),
  );
  assert.ok(
    answers.every((r) => r.status === 303 && r.location === "/register/done"),
  );
  // … and ninety more through the same store commit, without Argon2id.
  await seedRegistrations(app.kv, SEEDED, {
    queue: false,
    now: app.clock.now(),
  });
  const report = await app.deps.deliverer.sweep({ minAgeMs: 0 });
  assert.equal(report.sent, 0);

  // Operators see every failure: attempts, the error, when it is retried.
  const failed = await outbox(app.kv);
  assert.equal(failed.length, BY_HTTP + SEEDED);
  for (const entry of failed) {
    assert.ok(entry.attempts >= 1);
    assert.match(entry.lastError ?? "", /ECONNREFUSED|connect/i);
    assert.equal(entry.leaseUntil, 0);
    assert.ok(entry.nextAttemptAt > app.clock.now());
  }
  assert.ok(app.logLines.some((l) => /WARN signal delivery failed/.test(l)));
  assert.equal(received.length, 0);

  // The relay comes back on the same port. Before the backoff: nothing.
  const again = await startSmtpServer({}, { port, received });
  try {
    assert.equal((await app.deps.deliverer.sweep({ minAgeMs: 0 })).sent, 0);
    app.clock.advance(4 * 60_000); // past any backoff so far
    const resumed = await app.deps.deliverer.sweep({ minAgeMs: 0 });
    assert.equal(resumed.sent, BY_HTTP + SEEDED);
    app.clock.advance(3_600_000);
    assert.equal((await app.deps.deliverer.sweep({ minAgeMs: 0 })).sent, 0);
    const counts = countByRecipient(received);
    assert.equal(counts.size, BY_HTTP + SEEDED);
    assert.deepEqual(new Set(counts.values()), new Set([1]));
    assert.equal(await countPrefix(app.kv, keys.outbox()), 0);
    assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
    console.log(
      `relay down for 100 registrations → ${failed.length} failures visible in the outbox; after it returned ${counts.size} mails arrived, ${
        [...counts.values()].filter((n) => n > 1).length
      } twice`,
    );
  } finally {
    await app.shutdown();
    await again.close();
  }
});

Deno.test("smtp timeout: a relay that never answers does not hold up the registration", async () => {
  // Accepts connections and says nothing: nodemailer waits for a greeting.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) conns.push(conn);
  })();
  await using app = await startFaultApp({
    env: {
      MAIL_BACKEND: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String((silent.addr as Deno.NetAddr).port),
      SIGNAL_QUEUE: "none",
    },
  });
  const res = await app.browser().register();
  assert.equal(res.status, 303);
  assert.equal(res.location, "/register/done");
  // The mail is still waiting on the relay while the person is answered.
  for (let i = 0; i < 100 && (await outbox(app.kv))[0].leaseUntil === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const [entry] = await outbox(app.kv);
  assert.ok(entry.leaseUntil > 0, "delivery still in flight");
  assert.equal(entry.lastError, null);
  assert.equal(await countPrefix(app.kv, keys.users()), 1);
  // The relay hangs up: the attempt is recorded as failed, not lost.
  for (const c of conns) c.close();
  silent.close();
  await accepting.catch(() => {});
  for (
    let i = 0;
    i < 200 && (await outbox(app.kv))[0].lastError === null;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const [after] = await outbox(app.kv);
  assert.ok(after.lastError, "the failure is recorded");
  assert.equal(after.leaseUntil, 0);
  console.log(
    `silent relay → registration answered 303 while the mail waited; then "${after.lastError}" recorded for a retry`,
  );
});
