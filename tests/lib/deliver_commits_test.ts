// What delivery writes, commit by commit: the budgets of the mails about to
// go and the deletes of the mails that went share commits (each one a disk
// flush), and the budgets still let through exactly their limit.
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { mailBudgetRefusals } from "../../lib/outbox/mail_budget.ts";
import { addSignal } from "../../lib/outbox/signals.ts";
import { countPrefix, startTestApp } from "../helpers.ts";
import { watchCommits } from "../kv_commits.ts";

type Commit = { sums: string[]; deletes: string[] };

/**
 * The same KV, noting the first key part of each sum and delete per commit;
 * a commit that spends a mail budget waits for `gate.hold` when one is set.
 */
function recordingCommits(
  kv: Deno.Kv,
  commits: Commit[],
  gate: { hold: Promise<void> | null; held?: () => void },
): Deno.Kv {
  return watchCommits(kv, async (mutations) => {
    const parts = (op: string) =>
      mutations.filter((m) => m.op === op).map((m) => String(m.key[0]));
    const seen: Commit = { sums: parts("sum"), deletes: parts("delete") };
    commits.push(seen);
    if (seen.sums.includes("mail_budget") && gate.hold) {
      const hold = gate.hold;
      gate.hold = null;
      gate.held?.();
      await hold;
    }
  });
}

async function registerQueued(kv: Deno.Kv, now: number, email: string) {
  const res = await createPendingUser(kv, {
    firstName: "Commit",
    email,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
    lang: "en",
  }, { now, pendingTtlMs: 86_400_000, queue: false });
  assert.ok(res.ok);
  return res.outboxId;
}

async function queueRegistrations(kv: Deno.Kv, now: number, count: number) {
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      createPendingUser(kv, {
        firstName: "Burst",
        email: `commits${i}@example.com`,
        passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        lang: "en",
      }, { now, pendingTtlMs: 86_400_000, queue: true })),
  );
}

async function outboxEmpty(kv: Deno.Kv): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await countPrefix(kv, keys.outbox()) === 0) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

Deno.test("deliver: a mail's budget spend rides in the commit that deletes a mail already done", async () => {
  const commits: Commit[] = [];
  const release = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  await using app = await startTestApp({
    wrapKv: (kv) =>
      recordingCommits(kv, commits, {
        hold: release.promise,
        held: held.resolve,
      }),
  });
  const now = app.clock.now();
  const first = await registerQueued(app.kv, now, "first@example.com");
  const second = await registerQueued(app.kv, now, "second@example.com");
  // A signal whose user is gone: done without a mail, so without a spend.
  const goneId = "00000000-0000-7000-8000-000000000001";
  await addSignal(app.kv.atomic(), {
    type: "user_registered",
    userId: "no-such-user",
  }, { id: goneId, now, queue: false }).commit();
  // The first mail's spend is held in its commit; meanwhile the done entry
  // waits to be deleted and the second mail waits to spend.
  const delivering = [app.deps.deliverer.deliver(first)];
  await held.promise;
  delivering.push(
    app.deps.deliverer.deliver(goneId),
    app.deps.deliverer.deliver(second),
  );
  // Both reach the writer within a few KV reads; the bound is generous.
  await new Promise((r) => setTimeout(r, 300));
  const before = commits.length;
  release.resolve();
  assert.deepEqual(await Promise.all(delivering), ["sent", "sent", "sent"]);
  const next = commits[before];
  assert.ok(next.sums.includes("mail_budget"), JSON.stringify(commits));
  assert.ok(next.deletes.includes("outbox"), JSON.stringify(commits));
  assert.deepEqual(
    app.mailer.sent.map((m) => m.to).sort(),
    ["first@example.com", "second@example.com"],
  );
  assert.ok(await outboxEmpty(app.kv));
});

Deno.test("deliver: sharing commits, the hourly budget still lets exactly its limit through", async () => {
  await using app = await startTestApp({
    env: { MAIL_BUDGET_HOUR: "25" },
  });
  const count = 60;
  await queueRegistrations(app.kv, app.clock.now(), count);
  await app.mailer.waitFor(25);
  // Refused mails are done with too: the outbox empties.
  assert.ok(await outboxEmpty(app.kv));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(app.mailer.sent.length, 25);
  assert.equal(await mailBudgetRefusals(app.kv), count - 25);
});
