// What each KV table holds: the first part of a key (see lib/kv/keys.ts) →
// the zod schema of its values. db:restore checks every record of a dump
// against it before writing anything; the fault tests check a live store
// with it after races (tests/faults/store_check.ts).
import { z } from "zod";
import { AuditEventSchema } from "../accounts/audit.ts";
import {
  EmailChangeSchema,
  EmailUndoSchema,
} from "../accounts/email_change.ts";
import { HashTurnSchema } from "../web/hash_turns.ts";
import { CounterSchema } from "../web/health.ts";
import {
  AttemptsSchema,
  CooldownSchema,
  NetworkFailureSchema,
  RateCountSchema,
} from "../security/rate_limit.ts";
import { SessionSchema } from "../accounts/sessions.ts";
import {
  DeadLetterSchema,
  OutboxEntrySchema,
  QueueMessageSchema,
} from "../outbox/signals.ts";
import { UserSchema } from "../accounts/users.ts";

export const recordSchemas: Readonly<Record<string, z.core.$ZodType>> = {
  users: UserSchema,
  /** email → user id */
  users_by_email: z.string(),
  sessions: SessionSchema,
  /** [user id, session id hash] → the session's createdAt */
  sessions_by_user: z.number(),
  /** [user id, uuidv7] → a security event, kept 90 days */
  audit_events: AuditEventSchema,
  outbox: OutboxEntrySchema,
  outbox_dead: DeadLetterSchema,
  /** Written by KV when a queue message is given up (keysIfUndelivered). */
  signals_undelivered: QueueMessageSchema,
  rate_limits: RateCountSchema,
  login_attempts: AttemptsSchema,
  cooldowns: CooldownSchema,
  hash_turns: HashTurnSchema,
  /** user id → the pending email change (its link's request) */
  email_changes: EmailChangeSchema,
  /** [user id, undo id] → what the old address's undo link restores */
  email_undos: EmailUndoSchema,
  login_failures: NetworkFailureSchema,
  counters: CounterSchema,
  mail_budget: CounterSchema,
  /** Development only: the generated SECRET_KEY (lib/app/dev_secret.ts). */
  dev_secret_key: z.string(),
};

/** Why a record does not belong in the store, or null if it does. */
export function recordProblem(key: Deno.KvKey, value: unknown): string | null {
  const schema = Object.hasOwn(recordSchemas, String(key[0]))
    ? recordSchemas[String(key[0])]
    : undefined;
  if (!schema) return `unknown table ${JSON.stringify(key[0])}`;
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  const at = issue.path.length ? ` at ${issue.path.join(".")}` : "";
  return `fails its schema${at}: ${issue.message}`;
}
