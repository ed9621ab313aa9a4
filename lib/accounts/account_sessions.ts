// A person's own sessions: list them, end one, end every other. Only sessions
// under the user's own index are ever touched, so an id from someone else's
// account is "not found", never ended. Each end commits with its audit event.
import { addAuditEvent } from "./audit.ts";
import { type ClientInfo, UNKNOWN_CLIENT } from "./devices.ts";
import { retryGuarded } from "../kv/guarded.ts";
import { keys } from "../kv/keys.ts";
import { type Session, sessionMatchesEpoch } from "./sessions.ts";

/** The user fields these need: whose sessions, and which epoch is live. */
type Owner = { id: string; credentialEpoch?: number };

export interface ListedSession {
  /**
   * The SHA-256 of the cookie's secret, as KV keys the session: shown to
   * its owner as the session's id (it cannot be turned back into a cookie).
   */
  id: string;
  session: Session;
  /** The session of the request asking. */
  current: boolean;
}

/** A session id as the API and the form carry it. */
export function isSessionId(id: string): boolean {
  return /^[0-9a-f]{64}$/.test(id);
}

function isLive(session: Session | null, owner: Owner, now: number) {
  return session !== null && session.userId === owner.id &&
    session.expiresAt > now && sessionMatchesEpoch(session, owner);
}

/**
 * The user's live sessions: the current one first, then the most recently
 * used. Sessions from before the last password change are over and left out.
 */
export async function listUserSessions(
  kv: Deno.Kv,
  owner: Owner,
  now: number,
  currentId: string | null,
): Promise<ListedSession[]> {
  const ids: string[] = [];
  for await (const entry of kv.list({ prefix: keys.userSessions(owner.id) })) {
    ids.push(String(entry.key.at(-1)));
  }
  const out: ListedSession[] = [];
  // getMany reads at most 10 keys at once.
  for (let i = 0; i < ids.length; i += 10) {
    const batch = ids.slice(i, i + 10);
    const entries = await kv.getMany<Session[]>(
      batch.map((id) => keys.session(id)),
    );
    entries.forEach((entry, j) => {
      if (!isLive(entry.value, owner, now)) return;
      out.push({
        id: batch[j],
        session: entry.value!,
        current: batch[j] === currentId,
      });
    });
  }
  const lastUsed = (s: Session) => s.lastUsedAt ?? s.createdAt;
  return out.sort((a, b) =>
    Number(b.current) - Number(a.current) ||
    lastUsed(b.session) - lastUsed(a.session)
  );
}

export type EndSessionOutcome =
  /** ended: the device of the session that ended. */
  | { ok: true; ended: ClientInfo }
  | { ok: false; reason: "not_found" | "retry" };

/**
 * Ends one of the owner's sessions and records "session_ended" in the same
 * commit. An id that is not a live session under the owner's index (another
 * person's, a made-up one, one already ended) is not_found, and nothing
 * changes.
 */
export function endSession(
  kv: Deno.Kv,
  owner: Owner,
  id: string,
  opts: { now: number; client: ClientInfo },
): Promise<EndSessionOutcome> {
  if (!isSessionId(id)) {
    return Promise.resolve({ ok: false, reason: "not_found" });
  }
  return retryGuarded(async (): Promise<EndSessionOutcome | undefined> => {
    const [index, entry] = await kv.getMany<[number, Session]>([
      keys.userSession(owner.id, id),
      keys.session(id),
    ]);
    if (index.value === null || !isLive(entry.value, owner, opts.now)) {
      return { ok: false, reason: "not_found" };
    }
    const ended = entry.value!.client ?? UNKNOWN_CLIENT;
    // Guarded by both reads: a touch of the session meanwhile retries.
    const atomic = kv.atomic().check(index, entry)
      .delete(entry.key)
      .delete(index.key);
    addAuditEvent(atomic, owner.id, {
      type: "session_ended",
      client: opts.client,
      ended,
    }, opts.now);
    return (await atomic.commit()).ok ? { ok: true, ended } : undefined;
  }, { tries: 3, exhausted: () => ({ ok: false, reason: "retry" }) });
}

/** Sessions deleted per commit, well inside KV's per-commit limits. */
const END_BATCH = 40;

/**
 * Ends every session of the owner but `keepId`; the last commit carries the
 * "other_sessions_ended" event with how many live sessions ended (none: no
 * event). A session that signs in meanwhile is not among the others.
 */
export async function endOtherSessions(
  kv: Deno.Kv,
  owner: Owner,
  keepId: string,
  opts: { now: number; client: ClientInfo },
): Promise<number> {
  const others = (await listUserSessions(kv, owner, opts.now, keepId))
    .filter((s) => !s.current).map((s) => s.id);
  for (let i = 0; i < others.length; i += END_BATCH) {
    const atomic = kv.atomic();
    for (const id of others.slice(i, i + END_BATCH)) {
      atomic.delete(keys.session(id)).delete(keys.userSession(owner.id, id));
    }
    if (i + END_BATCH >= others.length) {
      addAuditEvent(atomic, owner.id, {
        type: "other_sessions_ended",
        client: opts.client,
        count: others.length,
      }, opts.now);
    }
    await atomic.commit();
  }
  return others.length;
}
