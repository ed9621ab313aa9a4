// A failed send whose lease release also fails (a busy database) inside a
// queue batch must not keep the batch's sent mails in the outbox: they would
// go out again when their lease runs out.
import assert from "node:assert/strict";
import { createDeliverer, LEASE_MS } from "../../lib/outbox/deliver.ts";
import { createDeps } from "../../lib/app/deps.ts";
import { createEmailRenderer } from "../../lib/mail/templates.ts";
import { silentLogger } from "../../lib/app/log.ts";
import type { Mailer } from "../../lib/mail/types.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { TEST_SECRET, TestClock, testConfig } from "../helpers.ts";

Deno.test("deliver: a failed release inside a batch still clears the mails that went out", async () => {
  const real = await Deno.openKv(":memory:");
  let failRelease = true;
  // KV proxy: the release commit (a set with leaseUntil 0 after a failure) throws once.
  const kv = new Proxy(real, {
    get(t, p) {
      if (p !== "atomic") {
        const v = Reflect.get(t, p);
        return typeof v === "function" ? v.bind(t) : v;
      }
      return () => {
        const a = t.atomic();
        let isRelease = false;
        const origSet = a.set.bind(a);
        a.set = (k: Deno.KvKey, v: unknown, o?: { expireIn?: number }) => {
          if ((v as { lastError?: string })?.lastError) isRelease = true;
          origSet(k, v, o);
          return a;
        };
        const origCommit = a.commit.bind(a);
        a.commit = () => {
          if (isRelease && failRelease) {
            failRelease = false;
            return Promise.reject(new TypeError("database is locked"));
          }
          return origCommit();
        };
        return a;
      };
    },
  }) as Deno.Kv;
  const sent: string[] = [];
  const mailer: Mailer = {
    send: async (m) => {
      await new Promise((r) => setTimeout(r, m.to.startsWith("bad") ? 5 : 50));
      if (m.to.startsWith("bad")) throw new Error("relay said 451");
      sent.push(m.to);
    },
    close: () => Promise.resolve(),
  };
  const clock = new TestClock();
  const config = testConfig();
  const d = createDeliverer(
    await createDeps(config, {
      kv,
      log: silentLogger,
      secretKey: TEST_SECRET,
      mailer,
      clock,
      passwordWorkers: 0,
    }),
    createEmailRenderer(),
  );
  const ids: string[] = [];
  for (
    const e of [
      "f1@example.com",
      "f2@example.com",
      "f3@example.com",
      "f4@example.com",
      "c@example.com",
      "bad@example.com",
      "d@example.com",
    ]
  ) {
    const r = await createPendingUser(real, {
      firstName: "X",
      email: e,
      passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
      lang: "en",
    }, { now: clock.now(), pendingTtlMs: 86_400_000, queue: false });
    assert.ok(r.ok);
    ids.push(r.outboxId);
  }
  // Seven messages at once: four fill the batches in flight, the rest
  // (c, bad, d) wait and go together as one batch.
  await Promise.allSettled(ids.map((id) => d.onQueueMessage({ outboxId: id })));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(failRelease, false, "the release commit did fail once");
  // Only the failed one is left; after its lease and backoff the sweep sends
  // nothing twice.
  clock.advance(LEASE_MS + 3_600_001);
  await d.sweep({ minAgeMs: 0 });
  const counts = new Map<string, number>();
  for (const to of sent) counts.set(to, (counts.get(to) ?? 0) + 1);
  assert.deepEqual([...counts.values()].filter((n) => n > 1), []);
  assert.equal(counts.get("c@example.com"), 1);
  assert.equal(counts.get("d@example.com"), 1);
  real.close();
});
