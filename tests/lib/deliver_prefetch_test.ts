// A queue message is answered once its entry is claimed, and each claim
// also takes other due outbox entries (prefetch). Those sends belong to no
// waiting caller, so: a failed one is retried like any other (its backoff
// in the entry, the sweep sends it once due), and shutdown waits for every
// send under way.
import assert from "node:assert/strict";
import { silentLogger } from "../../lib/app/log.ts";
import type { Mail, Mailer } from "../../lib/mail/types.ts";
import { startApp } from "../../lib/app/server.ts";
import { MAX_SENDING } from "../../lib/outbox/deliver.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { TestClock, testConfig } from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { OutboxEntry } from "../../lib/outbox/signals.ts";

/**
 * Mail to `held` waits for release(), which may fail it once; everything
 * else goes at once.
 */
function gatedMailer(held: string) {
  const sent: string[] = [];
  const gate = Promise.withResolvers<Error | null>();
  let failed = false;
  let reached = Promise.withResolvers<void>();
  const mailer: Mailer = {
    async send(mail: Mail) {
      if (mail.to === held) {
        reached.resolve();
        const error = await gate.promise;
        if (error && !failed) {
          failed = true; // once: a retry goes through
          throw error;
        }
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

Deno.test("prefetch: a failed prefetched send is retried like any other", async () => {
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
    const b = await seed(kv, clock, "b@example.com", false);
    const a = await seed(kv, clock, "a@example.com", false);
    // A's message alone starts B's send too, and is answered at the claim.
    await app.deps.deliverer.onQueueMessage({ outboxId: a });
    await gated.reached();
    // B's own message arrives while B is being sent: answered, nothing more.
    await app.deps.deliverer.onQueueMessage({ outboxId: b });
    gated.release(new Error("relay said 451"));
    await app.idle();
    assert.deepEqual(gated.sent, ["a@example.com"]);
    // B stays in the outbox as any failed send does: an attempt, its error,
    // no lease, a retry time.
    const failed = await kv.get<OutboxEntry>(keys.outboxEntry(b));
    assert.equal(failed.value!.attempts, 1);
    assert.match(failed.value!.lastError!, /451/);
    assert.equal(failed.value!.leaseUntil, 0);
    assert.ok(failed.value!.nextAttemptAt > clock.now());
    // A queue redelivery before then changes nothing; the sweep sends it
    // once due.
    await app.deps.deliverer.onQueueMessage({ outboxId: b });
    await app.idle();
    assert.equal(
      (await kv.get(keys.outboxEntry(b))).versionstamp,
      failed.versionstamp,
    );
    clock.time = failed.value!.nextAttemptAt;
    assert.deepEqual(await app.deps.deliverer.sweep({ minAgeMs: 0 }), {
      sent: 1,
      failed: 0,
      skipped: 0,
    });
    assert.deepEqual(gated.sent, ["a@example.com", "b@example.com"]);
    assert.equal((await kv.get(keys.outboxEntry(b))).value, null);
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

Deno.test("prefetch: a stalled relay holds at most MAX_SENDING claims; the other messages wait unclaimed", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new TestClock();
  const gate = Promise.withResolvers<void>();
  const sent: string[] = [];
  const mailer: Mailer = {
    async send(mail: Mail) {
      await gate.promise;
      sent.push(mail.to);
    },
    close: () => Promise.resolve(),
  };
  const app = await startApp(testConfig({ SIGNAL_QUEUE: "none" }), {
    kv,
    mailer,
    clock,
    log: silentLogger,
  });
  try {
    const total = MAX_SENDING + 10;
    const ids: string[] = [];
    for (let i = 0; i < total; i++) {
      ids.push(await seed(kv, clock, `u${i}@example.com`, false));
    }
    const answered = ids.map((outboxId) =>
      app.deps.deliverer.onQueueMessage({ outboxId })
    );
    const leased = async () => {
      let n = 0;
      for await (const e of kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
        if (e.value.leaseUntil > 0) n++;
      }
      return n;
    };
    for (let i = 0; i < 100 && await leased() < MAX_SENDING; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 100));
    const held = await leased();
    gate.resolve();
    assert.equal(held, MAX_SENDING);
    await Promise.all(answered);
    await app.idle();
    assert.equal(new Set(sent).size, total);
    assert.equal(await leased(), 0);
  } finally {
    gate.resolve();
    await app.shutdown();
  }
});
