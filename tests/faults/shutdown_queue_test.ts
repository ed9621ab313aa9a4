// A queue message that arrives while shutdown drains in-flight deliveries is
// left for a retry, not started and then cut off when KV closes under it.
import assert from "node:assert/strict";
import { startApp } from "../../lib/app/server.ts";
import { silentLogger } from "../../lib/app/log.ts";
import type { Mailer } from "../../lib/mail/types.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { TestClock, testConfig } from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

Deno.test({
  name: "shutdown: a message that arrives while draining is left for a retry",
  // KV's queue keeps a timer for the refused message until the process ends.
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  const sent: string[] = [];
  const inFlight = Promise.withResolvers<void>();
  const mailer: Mailer = {
    send: async (m) => {
      inFlight.resolve();
      await new Promise((r) => setTimeout(r, 800));
      sent.push(m.to);
    },
    close: () => Promise.resolve(),
  };
  const kv = await Deno.openKv(path);
  const clock = new TestClock();
  const app = await startApp(testConfig({ KV_PATH: path }), {
    kv,
    mailer,
    clock,
    log: silentLogger,
  });
  const mk = (email: string, queue: boolean) =>
    createPendingUser(kv, {
      firstName: "X",
      email,
      passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
      lang: "en",
    }, { now: clock.now(), pendingTtlMs: 86_400_000, queue });
  await mk("first@example.com", true);
  await inFlight.promise; // first mail in flight
  // Written after the first batch looked for due entries to take along.
  const second = await mk("second@example.com", false);
  if (!second.ok) throw new Error();
  await kv.enqueue({ outboxId: second.outboxId }, { delay: 200 });
  const t0 = performance.now();
  await app.shutdown();
  console.log(`shutdown took ${Math.round(performance.now() - t0)} ms`);
  await new Promise((r) => setTimeout(r, 1500));
  // The mail in flight finished; the late one was not started.
  assert.deepEqual(sent, ["first@example.com"]);
  const again = await Deno.openKv(path);
  const left = [];
  for await (
    const e of again.list<{ signal: { userId: string }; attempts: number }>({
      prefix: keys.outbox(),
    })
  ) left.push(e.value);
  again.close();
  // Only the late one is waiting, unclaimed: the next start delivers it once.
  assert.equal(left.length, 1);
  assert.equal(left[0].signal.userId, second.user.id);
  assert.equal(left[0].attempts, 0);
});
