// Every request that would hash a password (a link that sets one, a password
// change) first takes a turn: a per-client rate limit, then a KV reservation
// for its link. The reservation is one commit that only succeeds while no
// other request holds the link (versionstamp null), so forty parallel posts
// of one link make one hash and thirty-nine quick "busy" answers; a read
// ("is it in use?") would let them all through together. The holder releases
// the turn when it is done (and the link, once used, asks for no more
// hashes); a crashed holder's turn lapses after HASH_TURN_MS.
import * as z from "zod/mini";
import type { Deps } from "../app/deps.ts";
import type { AppContext } from "./http.ts";
import { keys } from "../kv/keys.ts";
import { limitRequest } from "./request_limits.tsx";

/** Longer than a hash and its commit take, even behind a queue of others. */
export const HASH_TURN_MS = 60_000;
/** What a refused contender is told to wait: the holder is usually done. */
const BUSY_RETRY_MS = 2_000;

/** A turn's record: when it lapses if never released (ms since epoch). */
export const HashTurnSchema = z.object({ until: z.number() });
type HashTurn = z.infer<typeof HashTurnSchema>;

export type HashTurnRefused = {
  ok: false;
  /** limited: this client's budget is spent; busy: the link is in use. */
  reason: "limited" | "busy";
  retryAfterMs: number;
};

/**
 * Whose turn: a mailed link's token, or an account (a password change).
 * null: the request carries no password, so it needs no turn.
 */
export type HashTurnFor = { link: string } | { account: string } | null;

/** A token is kept as its SHA-256, so KV never holds a live link. */
async function subjectOf(turn: { link: string } | { account: string }) {
  if ("account" in turn) return `account:${turn.account}`;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(turn.link),
  );
  return "link:" + new Uint8Array(digest).toBase64({ alphabet: "base64url" });
}

async function takeTurn(
  kv: Deno.Kv,
  subject: string,
  now: number,
): Promise<Deno.KvCommitResult | null> {
  const key = keys.hashTurn(subject);
  const held = await kv.get<HashTurn>(key);
  // A lapsed turn (its holder died) is taken over, guarded by its
  // versionstamp; KV's own expiry may not have removed it yet.
  if (held.value && held.value.until > now) return null;
  const res = await kv.atomic()
    .check({ key, versionstamp: held.versionstamp })
    .set(key, { until: now + HASH_TURN_MS } satisfies HashTurn, {
      expireIn: HASH_TURN_MS,
    })
    .commit();
  return res.ok ? res : null;
}

async function releaseTurn(
  kv: Deno.Kv,
  subject: string,
  turn: Deno.KvCommitResult,
): Promise<void> {
  const key = keys.hashTurn(subject);
  // Only our own turn: one that lapsed and was taken over stays.
  await kv.atomic().check({ key, versionstamp: turn.versionstamp })
    .delete(key).commit();
}

/**
 * Runs `work` (which may hash a password) within the client's budget and
 * holding the turn for `what`; refuses at once otherwise.
 */
export async function withHashTurn<T>(
  deps: Pick<Deps, "kv" | "config" | "clock">,
  c: AppContext,
  what: HashTurnFor,
  work: () => Promise<T>,
): Promise<T | HashTurnRefused> {
  if (what === null) return await work();
  const subject = await subjectOf(what);
  const limited = await limitRequest(deps, c, "password");
  if (!limited.ok) {
    return {
      ok: false,
      reason: "limited",
      retryAfterMs: limited.retryAfterMs,
    };
  }
  const turn = await takeTurn(deps.kv, subject, deps.clock.now());
  if (!turn) return { ok: false, reason: "busy", retryAfterMs: BUSY_RETRY_MS };
  try {
    return await work();
  } finally {
    await releaseTurn(deps.kv, subject, turn);
  }
}
