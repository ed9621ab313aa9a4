// A user: the record (its schema, in the record-schema table too), reading
// it, and the rules every reader shares (live or lapsed, who registered it,
// what activating it asks). Every write of a user record is in
// user_writes.ts, guarded by the version it read.
import { z } from "zod";
import { keys } from "../kv/keys.ts";
export const UserSchema = z.object({
  id: z.string(),
  firstName: z.string().min(1).max(150),
  email: z.string().min(3).max(254),
  passwordHash: z.string().startsWith("$argon2id$"),
  /** The language the person registered in; their mails use it. */
  lang: z.string().min(2).max(12),
  isActivated: z.boolean(),
  isActive: z.boolean(),
  createdAt: z.number(),
  activatedAt: z.number().nullable(),
  /** A pending user is gone after this (KV expiry is lazy, so we check too). */
  pendingUntil: z.number().nullable(),
  /** Signed into activation links; raising it retires every older link. */
  tokenVersion: z.number().int().min(0),
  /** When a mail to this owner was last queued (absent: at creation). */
  mailedAt: z.number().optional(),
  /**
   * Pending only: a random id for whoever set the current name and password,
   * also signed into that browser's "registered" cookie (absent: the user id,
   * as in records and cookies made before it existed).
   */
  registrant: z.string().optional(),
  /**
   * Pending only: the address was registered again before anyone activated
   * it, so nobody can tell whose password it holds. Activation from a
   * browser that is not the current registrant's must choose a new one.
   */
  contested: z.boolean().optional(),
  /**
   * Raised by every change of password: a session made under an older
   * epoch is worthless (absent: 0, as in records made before it existed).
   */
  credentialEpoch: z.number().int().min(0).optional(),
});
export type User = z.infer<typeof UserSchema>;

/** False for a pending user past its TTL (KV expiry is lazy). */
export function isLive(user: User, now: number): boolean {
  return user.pendingUntil === null || user.pendingUntil > now;
}

export async function getUser(
  kv: Deno.Kv,
  id: string,
  now: number,
): Promise<User | null> {
  const user = (await getUserEntry(kv, id)).value;
  return user && isLive(user, now) ? user : null;
}

/**
 * The record with its versionstamp, live or not, for a write guarded by
 * this very read (see activateUser's `read`).
 */
export function getUserEntry(
  kv: Deno.Kv,
  id: string,
): Promise<Deno.KvEntryMaybe<User>> {
  return kv.get<User>(keys.user(id));
}

export async function getUserByEmail(
  kv: Deno.Kv,
  email: string,
  now: number,
): Promise<User | null> {
  const index = await kv.get<string>(keys.userByEmail(email));
  if (!index.value) return null;
  return await getUser(kv, index.value, now);
}

export async function* listUsers(kv: Deno.Kv): AsyncIterable<User> {
  for await (const entry of kv.list<User>({ prefix: keys.users() })) {
    yield entry.value;
  }
}

/** Who set a pending user's current credentials (see UserSchema.registrant). */
export function registrantOf(user: User): string {
  return user.registrant ?? user.id;
}

/** A user's credential epoch (see UserSchema.credentialEpoch). */
export function epochOf(user: User): number {
  return user.credentialEpoch ?? 0;
}

/**
 * What activating a pending user asks of whoever holds its link:
 * - "nothing": this browser (its "registered" cookie) set the current
 *   password, so pressing the button (or the page itself) is enough;
 * - "password": anywhere else, the account's password or a new one, so that
 *   pressing a link someone sent you never signs you in to an account whose
 *   password you do not know (login CSRF), and an account registered by a
 *   stranger never goes live with his password (pre-account hijacking);
 * - "new_password": the address was registered more than once, so nobody
 *   can vouch for its password: only a new one will do.
 */
export function activationNeeds(
  user: User,
  registrant: string | null,
): "nothing" | "password" | "new_password" {
  if (registrant !== null && registrant === registrantOf(user)) {
    return "nothing";
  }
  return user.contested ? "new_password" : "password";
}
