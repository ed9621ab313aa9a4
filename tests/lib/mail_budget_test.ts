// The hourly mail budgets spent in batches: one commit for many mails must
// let through exactly as many as one commit each would.
import assert from "node:assert/strict";
import { silentLogger } from "../../lib/app/log.ts";
import {
  mailBudgetRefusals,
  spendMailBudget,
  spendMailBudgets,
} from "../../lib/outbox/mail_budget.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { addSignal } from "../../lib/outbox/signals.ts";
import { startTestApp, TestClock, testConfig } from "../helpers.ts";

async function withBudgets(
  env: Record<string, string>,
  fn: (deps: Parameters<typeof spendMailBudgets>[0]) => Promise<void>,
) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn({
      kv,
      config: testConfig(env),
      clock: new TestClock(),
      log: silentLogger,
    });
  } finally {
    kv.close();
  }
}

Deno.test("mail budget: a batch passes the first mails up to each limit, the same address counted each time", async () => {
  await withBudgets({
    MAIL_BUDGET_PER_DOMAIN_HOUR: "3",
    MAIL_BUDGET_HOUR: "4",
  }, async (deps) => {
    const verdicts = await spendMailBudgets(deps, [
      "a@one.example",
      "a@one.example",
      "b@two.example",
      "c@one.example",
      "d@two.example",
      "e@one.example",
    ]);
    assert.deepEqual(verdicts, [
      { ok: true },
      { ok: true },
      { ok: true },
      { ok: true },
      { ok: false, scope: "total" }, // two.example's 2nd, the 5th in all
      { ok: false, scope: "domain" }, // one.example's 4th
    ]);
    assert.equal(await mailBudgetRefusals(deps.kv), 2);
    // A later single spend counts on from the batch.
    assert.deepEqual(await spendMailBudget(deps, "f@three.example"), {
      ok: false,
      scope: "total",
    });
    assert.equal(await mailBudgetRefusals(deps.kv), 3);
  });
});

Deno.test("mail budget: batched and single spends let the same number through", async () => {
  const addresses = Array.from(
    { length: 12 },
    (_, i) => `u${i % 5}@${i % 3 ? "x" : "y"}.example`,
  );
  const env = { MAIL_BUDGET_PER_DOMAIN_HOUR: "5", MAIL_BUDGET_HOUR: "9" };
  const single: boolean[] = [];
  await withBudgets(env, async (deps) => {
    for (const to of addresses) {
      single.push((await spendMailBudget(deps, to)).ok);
    }
  });
  await withBudgets(env, async (deps) => {
    const batched = [
      ...await spendMailBudgets(deps, addresses.slice(0, 7)),
      ...await spendMailBudgets(deps, addresses.slice(7)),
    ].map((v) => v.ok);
    assert.deepEqual(batched, single);
  });
});

Deno.test("mail budget: mails to one address sent at once each spend from the budget", async () => {
  await using app = await startTestApp({
    env: { MAIL_BUDGET_PER_DOMAIN_HOUR: "2", SIGNAL_QUEUE: "none" },
  });
  const res = await createPendingUser(app.kv, {
    firstName: "Ada",
    email: "ada@one.example",
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
    lang: "en",
  }, { now: app.clock.now(), pendingTtlMs: 86_400_000, queue: false });
  assert.ok(res.ok);
  const ids = [res.outboxId];
  for (let i = 0; i < 3; i++) {
    const id = crypto.randomUUID();
    await addSignal(app.kv.atomic(), {
      type: "activation_requested",
      userId: res.user.id,
    }, { id, now: app.clock.now(), queue: false }).commit();
    ids.push(id);
  }
  // Four mails to one address reach the budget together: two may pass.
  await Promise.all(ids.map((id) => app.deps.deliverer.deliver(id)));
  assert.equal(app.mailer.sent.length, 2);
  assert.equal(await mailBudgetRefusals(app.kv), 2);
});
