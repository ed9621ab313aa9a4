// The account's security events (sign-ins, password changes, ended sessions),
// kept 90 days by KV's own expiry and shown on the account page. An event is
// written in the same commit as what it records, so neither exists alone.
//
//   addAuditEvent(atomic, userId, { type, client }, now)  // inside a commit
//   recordAudit(kv, userId, { type, client }, now)        // a commit of its own
//   listAuditEvents(kv, userId, { limit })                // newest first
import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
import { ClientInfoSchema } from "./devices.ts";
import { AUDIT_TTL_MS } from "../kv/expiry.ts";
import { keys } from "../kv/keys.ts";

/** How long an event is kept (KV expireIn): 90 days. */
export { AUDIT_TTL_MS };

export const AUDIT_EVENT_TYPES = [
  /** A session began: sign-in, activation (client: the new session's). */
  "signed_in",
  /** The password was changed while signed in. */
  "password_changed",
  /** The password was set through a reset link. */
  "password_reset",
  /** One session was ended from the sessions page (`ended`: its device). */
  "session_ended",
  /** Every other session was ended at once (`count`: how many). */
  "other_sessions_ended",
  /** The account's address changed (issue 15, email change). */
  "email_changed",
] as const;
export type AuditEventType = typeof AUDIT_EVENT_TYPES[number];

export const AuditEventSchema = z.object({
  type: z.enum(AUDIT_EVENT_TYPES),
  /** Epoch ms, from the app's clock. */
  at: z.number(),
  /** The client that did it (browser, OS, truncated address). */
  client: ClientInfoSchema,
  /** session_ended: the device of the session that was ended. */
  ended: ClientInfoSchema.optional(),
  /** other_sessions_ended: how many sessions ended. */
  count: z.int().nonnegative().optional(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** What a caller says about an event; `at` comes from `now`. */
export type AuditInput = Omit<AuditEvent, "at">;

/**
 * Adds the event to a caller's atomic operation, so it commits (or not) with
 * the change it records. Returns the operation for chaining.
 */
export function addAuditEvent(
  atomic: Deno.AtomicOperation,
  userId: string,
  event: AuditInput,
  now: number,
): Deno.AtomicOperation {
  const record: AuditEvent = { ...event, at: now };
  // uuidv7: time-ordered, so listing the prefix backwards is newest first.
  return atomic.set(keys.auditEvent(userId, uuidv7()), record, {
    expireIn: AUDIT_TTL_MS,
  });
}

/** Records an event in a commit of its own (nothing else to commit with). */
export async function recordAudit(
  kv: Deno.Kv,
  userId: string,
  event: AuditInput,
  now: number,
): Promise<void> {
  await addAuditEvent(kv.atomic(), userId, event, now).commit();
}

/** The user's events, newest first; `limit` omitted: all of them. */
export async function listAuditEvents(
  kv: Deno.Kv,
  userId: string,
  opts: { limit?: number } = {},
): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  const iter = kv.list<AuditEvent>(
    { prefix: keys.auditEvents(userId) },
    { reverse: true, limit: opts.limit },
  );
  for await (const entry of iter) out.push(entry.value);
  return out;
}
