// Sessions: a random 256-bit id lives only in the person's cookie; KV keeps
// its SHA-256, so a leaked database cannot be replayed as cookies.
import { z } from "zod";
import { addAuditEvent } from "./audit.ts";
import {
  type ClientInfo,
  ClientInfoSchema,
  UNKNOWN_CLIENT,
} from "./devices.ts";
import { keys } from "../kv/keys.ts";
import { randomToken, sha256Hex } from "../security/signing.ts";

export const SessionSchema = z.object({
  userId: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  /**
   * The user's credential epoch when the session was made; a later password
   * change or reset raises the user's, and the session stops working
   * (absent: 0, as in sessions made before it existed).
   */
  epoch: z.number().int().min(0).optional(),
  /** The device and network it was made from (absent: made before). */
  client: ClientInfoSchema.optional(),
  /**
   * When it was last seen, to within LAST_USED_EVERY_MS (absent: not since
   * createdAt).
   */
  lastUsedAt: z.number().optional(),
});
export type Session = z.infer<typeof SessionSchema>;

export interface NewSession {
  /** Goes in the cookie, nowhere else. */
  token: string;
  idHash: string;
  session: Session;
}

export async function newSession(
  userId: string,
  now: number,
  ttlMs: number,
  /** The user's credential epoch as read with the credentials checked. */
  epoch: number,
  client: ClientInfo = UNKNOWN_CLIENT,
): Promise<NewSession> {
  const token = randomToken(32);
  return {
    token,
    idHash: await sha256Hex(token),
    session: {
      userId,
      createdAt: now,
      expiresAt: now + ttlMs,
      epoch,
      client,
      lastUsedAt: now,
    },
  };
}

/** True when no password change has happened since the session was made. */
export function sessionMatchesEpoch(
  session: Session,
  user: { credentialEpoch?: number },
): boolean {
  return (session.epoch ?? 0) === (user.credentialEpoch ?? 0);
}

/** Adds the session and its per-user index to a caller's atomic operation. */
export function addSession(
  atomic: Deno.AtomicOperation,
  { idHash, session }: NewSession,
  ttlMs: number,
): Deno.AtomicOperation {
  return atomic
    .check({ key: keys.session(idHash), versionstamp: null })
    .set(keys.session(idHash), session, { expireIn: ttlMs })
    .set(keys.userSession(session.userId, idHash), session.createdAt, {
      expireIn: ttlMs,
    });
}

/** A new session and, in the same commit, its "signed_in" audit event. */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
  now: number,
  ttlMs: number,
  epoch: number,
  client: ClientInfo = UNKNOWN_CLIENT,
): Promise<NewSession | null> {
  const created = await newSession(userId, now, ttlMs, epoch, client);
  const atomic = addSession(kv.atomic(), created, ttlMs);
  addAuditEvent(atomic, userId, { type: "signed_in", client }, now);
  const res = await atomic.commit();
  return res.ok ? created : null;
}

/** The session behind a cookie value, or null (unknown, expired, malformed). */
export async function getSession(
  kv: Deno.Kv,
  token: string,
  now: number,
): Promise<(Session & { idHash: string }) | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
  const idHash = await sha256Hex(token);
  const entry = await kv.get<Session>(keys.session(idHash));
  if (!entry.value || entry.value.expiresAt <= now) return null;
  return { ...entry.value, idHash };
}

export async function deleteSession(
  kv: Deno.Kv,
  idHash: string,
): Promise<void> {
  const entry = await kv.get<Session>(keys.session(idHash));
  const atomic = kv.atomic().delete(keys.session(idHash));
  if (entry.value) {
    atomic.delete(keys.userSession(entry.value.userId, idHash));
  }
  await atomic.commit();
}

/**
 * Adds ending a session the caller has already read (its owner known) to a
 * caller's atomic operation: the session and its per-user index go together.
 */
export function endSessionIn(
  atomic: Deno.AtomicOperation,
  { idHash, userId }: { idHash: string; userId: string },
): Deno.AtomicOperation {
  return atomic
    .delete(keys.session(idHash))
    .delete(keys.userSession(userId, idHash));
}

/** Ends every session of a user (deactivation, password change). */
export async function deleteUserSessions(
  kv: Deno.Kv,
  userId: string,
  exceptIdHash?: string,
): Promise<number> {
  let count = 0;
  for await (const entry of kv.list({ prefix: keys.userSessions(userId) })) {
    const idHash = String(entry.key.at(-1));
    if (idHash === exceptIdHash) continue;
    await kv.atomic().delete(keys.session(idHash)).delete(entry.key).commit();
    count++;
  }
  return count;
}

/**
 * Last-used is written at most this often per session: a request within it
 * of the last write changes nothing in KV.
 */
export const LAST_USED_EVERY_MS = 5 * 60_000;

/** True when a request now should record it in the session's lastUsedAt. */
export function isDueForTouch(session: Session, now: number): boolean {
  return now - (session.lastUsedAt ?? session.createdAt) >= LAST_USED_EVERY_MS;
}

/**
 * Records that the session was used now, guarded by the versionstamp read:
 * a session ended or moved to a new epoch meanwhile is left alone (never
 * brought back), and of two requests racing one writes. False: nothing
 * written, which costs nothing but a later "last used".
 */
export async function touchSession(
  kv: Deno.Kv,
  idHash: string,
  now: number,
): Promise<boolean> {
  const entry = await kv.get<Session>(keys.session(idHash));
  const session = entry.value;
  if (!session || session.expiresAt <= now || !isDueForTouch(session, now)) {
    return false;
  }
  const res = await kv.atomic().check(entry)
    .set(entry.key, { ...session, lastUsedAt: now }, {
      expireIn: session.expiresAt - now,
    })
    .commit();
  return res.ok;
}
