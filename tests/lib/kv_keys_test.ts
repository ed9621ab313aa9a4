// The one place tests spell KV keys as literals: the storage format is what
// dumps and running deployments hold, so renaming a table or reordering a
// key's parts must be a deliberate change, made here too. Every other test
// reaches records through `keys.*`.
import assert from "node:assert/strict";
import { boundedPart, keys } from "../../lib/kv/keys.ts";

Deno.test("keys: the storage format of every key is pinned", () => {
  const pinned: [readonly unknown[], unknown[]][] = [
    [keys.user("u1"), ["users", "u1"]],
    [keys.users(), ["users"]],
    [keys.userByEmail("ada@example.com"), [
      "users_by_email",
      "ada@example.com",
    ]],
    [keys.session("h1"), ["sessions", "h1"]],
    [keys.userSession("u1", "h1"), ["sessions_by_user", "u1", "h1"]],
    [keys.userSessions("u1"), ["sessions_by_user", "u1"]],
    [keys.auditEvent("u1", "e1"), ["audit_events", "u1", "e1"]],
    [keys.auditEvents("u1"), ["audit_events", "u1"]],
    [keys.outboxEntry("o1"), ["outbox", "o1"]],
    [keys.outbox(), ["outbox"]],
    [keys.deadLetter("o1"), ["outbox_dead", "o1"]],
    [keys.deadLetters(), ["outbox_dead"]],
    [keys.undelivered("o1"), ["signals_undelivered", "o1"]],
    [keys.undeliveredAll(), ["signals_undelivered"]],
    [keys.rateLimit("burst", "1.2.3.4", 0), [
      "rate_limits",
      "burst",
      "1.2.3.4",
      0,
    ]],
    [keys.cooldown("resend", "a@b.c"), ["cooldowns", "resend", "a@b.c"]],
    [keys.loginAttempts("a@b.c", "1.2.3.4"), [
      "login_attempts",
      "a@b.c",
      "1.2.3.4",
    ]],
    [keys.loginAttemptsOf("a@b.c"), ["login_attempts", "a@b.c"]],
    [keys.outboxAdded(), ["counters", "outbox_added"]],
    [keys.outboxDone(), ["counters", "outbox_done"]],
    [keys.deliveryFailures(), ["counters", "delivery_failures"]],
    [keys.mailBudget("domain", "b.c", 0), ["mail_budget", "domain", "b.c", 0]],
    [keys.mailBudgetRefused(), ["counters", "mail_budget_refused"]],
    [keys.devSecretKey(), ["dev_secret_key"]],
    [keys.loginFailure("a@b.c", "1.2.3.0"), [
      "login_failures",
      "a@b.c",
      "1.2.3.0",
    ]],
    [keys.hashTurn("link:x"), ["hash_turns", "link:x"]],
    [keys.emailChange("u1"), ["email_changes", "u1"]],
    [keys.emailUndo("u1", "d1"), ["email_undos", "u1", "d1"]],
    [keys.emailUndos("u1"), ["email_undos", "u1"]],
  ];
  for (const [actual, literal] of pinned) assert.deepEqual(actual, literal);
  // Every key function is pinned above (a new one must be added).
  assert.equal(pinned.length, Object.keys(keys).length);
});

Deno.test("keys: a part from a request is stored as its SHA-256 past 255 characters", () => {
  assert.equal(boundedPart("a".repeat(255)), "a".repeat(255));
  assert.match(boundedPart("a".repeat(256)), /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(
    keys.cooldown("resend", "a".repeat(300)),
    ["cooldowns", "resend", boundedPart("a".repeat(300))],
  );
});
