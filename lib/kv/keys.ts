// lib/kv/ — storage: every key (this file), opening the store, dump and
// restore, and when records expire. It imports nothing of ours above it: the
// schemas a restore checks are handed in (lib/app/records.ts).
//
// Every Deno KV key the app uses, in one place. Indexes hold ids, never copies
// of records, so they cannot drift out of date.
import { createHash } from "node:crypto";

/** Subjects this long or longer are stored as their SHA-256. */
const MAX_SUBJECT_LENGTH = 256;

/**
 * A key part that came from a request, at a bounded size: Deno KV refuses
 * keys over 2 KiB with an exception, which a client must not be able to
 * cause. Validation already bounds emails and addresses; this is the floor.
 */
export function boundedPart(part: string): string {
  return part.length < MAX_SUBJECT_LENGTH
    ? part
    : `sha256:${createHash("sha256").update(part).digest("hex")}`;
}

export const keys = {
  user: (id: string) => ["users", id] as const,
  users: () => ["users"] as const,
  userByEmail: (email: string) => ["users_by_email", email] as const,
  /** Sessions are stored under the SHA-256 of their id, never the id itself. */
  session: (idHash: string) => ["sessions", idHash] as const,
  userSession: (userId: string, idHash: string) =>
    ["sessions_by_user", userId, idHash] as const,
  userSessions: (userId: string) => ["sessions_by_user", userId] as const,
  /** A security event of a user's account (lib/audit.ts), by uuidv7. */
  auditEvent: (userId: string, id: string) =>
    ["audit_events", userId, id] as const,
  auditEvents: (userId: string) => ["audit_events", userId] as const,
  outboxEntry: (id: string) => ["outbox", id] as const,
  outbox: () => ["outbox"] as const,
  /** Outbox entries that stopped retrying, kept for the operator. */
  deadLetter: (id: string) => ["outbox_dead", id] as const,
  deadLetters: () => ["outbox_dead"] as const,
  /** Written by the KV queue itself when it gives up on a message. */
  undelivered: (id: string) => ["signals_undelivered", id] as const,
  undeliveredAll: () => ["signals_undelivered"] as const,
  /** One counter per rule, subject (an IP or email) and fixed window. */
  rateLimit: (rule: string, subject: string, windowStart: number) =>
    ["rate_limits", rule, boundedPart(subject), windowStart] as const,
  /** When a subject may pass a cooldown rule again (epoch ms). */
  cooldown: (rule: string, subject: string) =>
    ["cooldowns", rule, boundedPart(subject)] as const,
  /** Failed sign-ins per address and client: one client cannot lock out another. */
  loginAttempts: (email: string, from: string) =>
    ["login_attempts", boundedPart(email), boundedPart(from)] as const,
  /** Outbox entries ever added, and ever done with (KvU64 counters). */
  outboxAdded: () => ["counters", "outbox_added"] as const,
  outboxDone: () => ["counters", "outbox_done"] as const,
  /** Delivery attempts that failed (a KvU64 counter). */
  deliveryFailures: () => ["counters", "delivery_failures"] as const,
  /** Mails spent from an hourly budget ("domain" or "total"), a KvU64. */
  mailBudget: (scope: string, subject: string, windowStart: number) =>
    ["mail_budget", scope, boundedPart(subject), windowStart] as const,
  /** How many mails the hourly mail budgets refused (a KvU64 counter). */
  mailBudgetRefused: () => ["counters", "mail_budget_refused"] as const,
  loginAttemptsOf: (email: string) =>
    ["login_attempts", boundedPart(email)] as const,
  /** The signing key a development instance made itself (no SECRET_KEY). */
  devSecretKey: () => ["dev_secret_key"] as const,
  /** When a network (IPv4 address, IPv6 /48) last failed to sign in here. */
  loginFailure: (email: string, network: string) =>
    ["login_failures", boundedPart(email), network] as const,
  /** A user's one pending email change, until its link expires. */
  emailChange: (userId: string) => ["email_changes", userId] as const,
  /** What an undo link from a past email change restores (7 days). */
  emailUndo: (userId: string, id: string) =>
    ["email_undos", userId, id] as const,
  emailUndos: (userId: string) => ["email_undos", userId] as const,
  /** Who may hash a password for a link or account now (lib/web/hash_turns.ts). */
  hashTurn: (subject: string) => ["hash_turns", subject] as const,
};
