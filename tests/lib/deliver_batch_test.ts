import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import type { OutboxEntry } from "../../lib/outbox/signals.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { SWEEP_MIN_AGE_MS } from "../../lib/outbox/deliver.ts";
import { countPrefix, startTestApp } from "../helpers.ts";

/** The outbox entry goes in a commit just after the mail is handed over. */
async function outboxSize(kv: Deno.Kv): Promise<number> {
  for (let i = 0; i < 50; i++) {
    if (await countPrefix(kv, keys.outbox()) === 0) return 0;
    await new Promise((r) => setTimeout(r, 20));
  }
  return await countPrefix(kv, keys.outbox());
}

Deno.test("deliver: a burst of queued registrations sends one mail each and empties the outbox", async () => {
  await using app = await startTestApp();
  const count = 60;
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      createPendingUser(app.kv, {
        firstName: "Burst",
        email: `burst${i}@example.com`,
        passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        lang: "en",
      }, { now: app.clock.now(), pendingTtlMs: 86_400_000, queue: true })),
  );
  const mails = await app.mailer.waitFor(count);
  // Give a duplicate, if any, the chance to arrive before counting.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(app.mailer.sent.length, count);
  assert.equal(new Set(mails.map((m) => m.to)).size, count);
  assert.equal(await outboxSize(app.kv), 0);
});

Deno.test("deliver: a failed send in a burst is retried without holding up the others", async () => {
  await using app = await startTestApp();
  app.mailer.failNext(1);
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      createPendingUser(app.kv, {
        firstName: "Burst",
        email: `retry${i}@example.com`,
        passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        lang: "en",
      }, { now: app.clock.now(), pendingTtlMs: 86_400_000, queue: true })),
  );
  await app.mailer.waitFor(9);
  // The failed one keeps its entry; the sweep sends it once its retry time
  // has come.
  let failed: OutboxEntry | undefined;
  for (let i = 0; i < 200 && !failed?.lastError; i++) {
    for await (const e of app.kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
      failed = e.value;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(failed?.lastError);
  app.clock.time = Math.max(
    failed.nextAttemptAt,
    failed.createdAt + SWEEP_MIN_AGE_MS,
  );
  await app.sweep();
  const all = await app.mailer.waitFor(10, 5_000);
  assert.equal(new Set(all.map((m) => m.to)).size, 10);
  assert.equal(await outboxSize(app.kv), 0);
});
