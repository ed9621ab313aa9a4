// A queue batch also takes other due outbox entries (prefetch). Those sends
// belong to no queue message of their own, so: a message for an entry being
// sent here waits for that send and fails if it fails (the queue retries it),
// and shutdown waits for every prefetched send.
import assert from "node:assert/strict";
import { silentLogger } from "../../lib/app/log.ts";
import type { Mail, Mailer } from "../../lib/mail/types.ts";
import { startApp } from "../../lib/app/server.ts";
import { createPendingUser } from "../../lib/accounts/users.ts";
import { TestClock, testConfig } from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

/** Mail to `held` waits for release(); everything else goes at once. */
function gatedMailer(held: string) {
  const sent: string[] = [];
  const gate = Promise.withResolvers<Error | null>();
  let reached = Promise.withResolvers<void>();
  const mailer: Mailer = {
    async send(mail: Mail) {
      if (mail.to === held) {
        reached.resolve();
        const error = await gate.promise;
        if (error) throw error;
      }
      sent.push(mail.to);
    },
    close: () => Promise.resolve(),
  };
  return {
    mailer,
    sent,
    reached: () => reached.promise,
    release: (error: Error | null) => gate.resolve(error),
    reset() {
      reached = Promise.withResolvers<void>();
    },
  };
}

async function seed(
  kv: Deno.Kv,
  clock: TestClock,
  email: string,
  queue: boolean,
) {
  const res = await createPendingUser(kv, {
    firstName: "X",
    email,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
    lang: "en",
  }, { now: clock.now(), pendingTtlMs: 86_400_000, queue });
  if (!res.ok) throw new Error(res.reason);
  return res.outboxId;
}

Deno.test("prefetch: a message for an entry sent by another batch fails when that send fails", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new TestClock();
  const gated = gatedMailer("b@example.com");
  const app = await startApp(testConfig({ SIGNAL_QUEUE: "none" }), {
    kv,
    mailer: gated.mailer,
    clock,
    log: silentLogger,
  });
  try {
    const a = await seed(kv, clock, "a@example.com", false);
    const b = await seed(kv, clock, "b@example.com", false);
    // A's message alone starts B's send too.
    const first = app.deps.deliverer.onQueueMessage({ outboxId: a });
    await gated.reached();
    // B's own message arrives while B is being sent: it waits for that send.
    let settled = false;
    const second = app.deps.deliverer.onQueueMessage({ outboxId: b })
      .finally(() => settled = true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, "B's message did not wait for B's send");
    gated.release(new Error("relay said 451"));
    await assert.rejects(second, /delivery of .* failed/);
    await first;
    assert.deepEqual(gated.sent, ["a@example.com"]);
    // B stays in the outbox with its error, for its message's retry.
    const left = await kv.get<{ lastError: string }>(keys.outboxEntry(b));
    assert.match(left.value!.lastError, /451/);
  } finally {
    await app.shutdown();
  }
});

Deno.test("prefetch: shutdown waits for a prefetched send", async () => {
  const dir = await Deno.makeTempDir();
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  const clock = new TestClock();
  const gated = gatedMailer("b@example.com");
  const app = await startApp(testConfig({ KV_PATH: `${dir}/kv.sqlite3` }), {
    kv,
    mailer: gated.mailer,
    clock,
    log: silentLogger,
  });
  let closed = false;
  try {
    // B has no queue message; A's queued message takes it along.
    await seed(kv, clock, "b@example.com", false);
    await seed(kv, clock, "a@example.com", true);
    await gated.reached();
    const closing = app.shutdown().then(() => closed = true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(closed, false, "shutdown did not wait for B's send");
    gated.release(null);
    await closing;
    assert.deepEqual(gated.sent.sort(), ["a@example.com", "b@example.com"]);
    const again = await Deno.openKv(`${dir}/kv.sqlite3`);
    let left = 0;
    for await (const _ of again.list({ prefix: keys.outbox() })) left++;
    again.close();
    assert.equal(left, 0, "a sent mail left its entry behind");
  } finally {
    gated.release(null);
    if (!closed) await app.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
