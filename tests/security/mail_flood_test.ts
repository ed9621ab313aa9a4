// Mail floods to people who never signed up: plus-addressed variants of one
// mailbox share its limits, forgot-password has an interval, and every mail
// spends from an hourly budget per recipient domain and in total.
import assert from "node:assert/strict";
import { mailBudgetRefusals } from "../../lib/outbox/mail_budget.ts";
import {
  createActiveAccount,
  outboxDrained,
  startTestApp,
} from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

Deno.test("mail flood: +tag variants of one mailbox share its per-address budget", async () => {
  await using app = await startTestApp({
    env: { RATE_LIMIT_EMAIL: "3/15m" },
  });
  const statuses: number[] = [];
  for (let i = 1; i <= 8; i++) {
    const res = await app.browser().register({
      email: `Target+${i}@victim.example`,
    });
    statuses.push(res.status);
  }
  await outboxDrained(app);
  assert.deepEqual(statuses, [303, 303, 303, 429, 429, 429, 429, 429]);
  assert.equal(app.mailer.sent.length, 3);
  // The accounts keep the address as it was typed (lower-cased by the form).
  const index = await app.kv.get(keys.userByEmail("target+1@victim.example"));
  assert.ok(index.value);
});

Deno.test("mail flood: resends to +tag variants share one interval", async () => {
  await using app = await startTestApp();
  for (let i = 1; i <= 4; i++) {
    await app.browser().register({ email: `target+${i}@victim.example` });
  }
  await outboxDrained(app);
  const before = app.mailer.sent.length;
  app.clock.advance(60_000);
  const statuses: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const res = await app.browser().post("/activate/resend", {
      email: `target+${i}@victim.example`,
    });
    statuses.push(res.status);
  }
  await outboxDrained(app);
  assert.deepEqual(statuses, [303, 429, 429, 429]);
  assert.equal(app.mailer.sent.length, before + 1);
});

Deno.test("mail flood: forgot-password has an interval like resend", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  await outboxDrained(app);
  const before = app.mailer.sent.length;
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await app.browser().post("/password/forgot", {
      email: i % 2 ? "ada@example.com" : "ada+x@example.com",
    });
    statuses.push(res.status);
  }
  await outboxDrained(app);
  assert.equal(statuses[0], 303);
  assert.ok(statuses.slice(1).every((s) => s === 429), String(statuses));
  // ada+x has no account: only the owner's one reset mail went out.
  assert.equal(app.mailer.sent.length, before);
  app.clock.advance(60_000);
  await app.browser().post("/password/forgot", { email: "ada@example.com" });
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, before + 1);
});

Deno.test("mail flood: over the per-domain budget the answer is the same and no mail goes out", async () => {
  await using app = await startTestApp({
    env: { MAIL_BUDGET_PER_DOMAIN_HOUR: "3" },
    captureLogs: true,
  });
  const answers = [];
  for (let i = 1; i <= 5; i++) {
    const res = await app.browser().register({
      email: `person${i}@victim.example`,
    });
    answers.push(`${res.status} ${res.location}`);
  }
  await outboxDrained(app);
  assert.deepEqual(answers, Array(5).fill("303 /register/done"));
  // Never more than the budget; deliveries racing at its edge may leave a
  // mail below it unsent too (see spendMailBudget).
  const sent = app.mailer.sent.length;
  assert.ok(sent <= 3, `${sent} sent`);
  assert.equal(await mailBudgetRefusals(app.kv), 5 - sent);
  assert.equal(
    app.logLines.filter((l) => l.includes("mail budget spent")).length,
    5 - sent,
  );
  // Another domain has its own budget; the next hour brings a new one.
  await app.browser().register({ email: "someone@elsewhere.example" });
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, sent + 1);
  app.clock.advance(3_600_000);
  await app.browser().register({ email: "person9@victim.example" });
  await outboxDrained(app);
  assert.equal(app.mailer.sent.length, sent + 2);
});

Deno.test("mail flood: over the overall budget no mail goes out to any domain", async () => {
  await using app = await startTestApp({ env: { MAIL_BUDGET_HOUR: "2" } });
  const answers = [];
  for (let i = 1; i <= 4; i++) {
    const api = await app.browser().api("/api/register", {
      first_name: "Ada",
      email: `ada@domain${i}.example`,
      password: "correct horse battery",
      password_confirm: "correct horse battery",
    });
    answers.push(api.status);
  }
  await outboxDrained(app);
  assert.deepEqual(answers, [202, 202, 202, 202]);
  const sent = app.mailer.sent.length;
  assert.ok(sent <= 2, `${sent} sent`);
  assert.equal(await mailBudgetRefusals(app.kv), 4 - sent);
});
