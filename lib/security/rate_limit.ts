// Fixed-window rate limits in Deno KV, so every instance shares one count.
// Each hit is a read plus a commit guarded by the read's versionstamp: under
// any number of concurrent requests exactly `limit` commits succeed per
// window, never more. Counters expire with their window.
import { z } from "zod";
import type { RateLimit } from "../app/env.ts";
import { ATTEMPTS_TTL_MS, EXPIRY_SLACK_MS } from "../kv/expiry.ts";
import { retryGuarded } from "../kv/guarded.ts";
import { keys } from "../kv/keys.ts";

export type LimitResult =
  /** `waitMs`: how long until the same subject would pass again (0: now). */
  | { ok: true; remaining: number; waitMs: number }
  | { ok: false; retryAfterMs: number };

/**
 * Enough for every contender of a burst to see the final count; a request
 * that still loses every race is refused (fail closed under attack).
 */
const MAX_TRIES = 100;
const GUARD = {
  tries: MAX_TRIES,
  // Losing every race: refused, try again in a second.
  exhausted: (): LimitResult => ({ ok: false, retryAfterMs: 1_000 }),
  // A burst on one counter spreads out instead of retrying in lockstep.
  backoff: true,
};

export function hitRateLimit(
  kv: Deno.Kv,
  rule: string,
  subject: string,
  { limit, windowMs }: RateLimit,
  now: number,
): Promise<LimitResult> {
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const key = keys.rateLimit(rule, subject, windowStart);
  const retryAfterMs = windowStart + windowMs - now;
  return retryGuarded(async (): Promise<LimitResult | undefined> => {
    const entry = await kv.get<number>(key);
    const count = entry.value ?? 0;
    if (count >= limit) return { ok: false, retryAfterMs };
    const res = await kv.atomic()
      .check(entry)
      .set(key, count + 1, { expireIn: retryAfterMs + EXPIRY_SLACK_MS })
      .commit();
    if (!res.ok) return undefined;
    const remaining = limit - count - 1;
    return { ok: true, remaining, waitMs: remaining ? 0 : retryAfterMs };
  }, GUARD);
}

/**
 * At most one pass per `intervalMs` for a subject, measured from the last
 * pass (not a fixed window, where two passes can land a second apart across
 * a window's edge). Guarded by the read's versionstamp like the counters.
 */
export function hitCooldown(
  kv: Deno.Kv,
  rule: string,
  subject: string,
  intervalMs: number,
  now: number,
): Promise<LimitResult> {
  const key = keys.cooldown(rule, subject);
  return retryGuarded(async (): Promise<LimitResult | undefined> => {
    const entry = await kv.get<number>(key);
    const until = entry.value ?? 0;
    if (now < until) return { ok: false, retryAfterMs: until - now };
    const res = await kv.atomic()
      .check(entry)
      .set(key, now + intervalMs, { expireIn: intervalMs + EXPIRY_SLACK_MS })
      .commit();
    return res.ok ? { ok: true, remaining: 0, waitMs: intervalMs } : undefined;
  }, GUARD);
}

export const RateCountSchema = z.int().nonnegative();
/** A cooldown's record: when the next request may pass (ms since epoch). */
export const CooldownSchema = z.number();

export const AttemptsSchema = z.object({
  count: z.int().nonnegative(),
  lastAt: z.number(),
});
type Attempts = z.infer<typeof AttemptsSchema>;

const MAX_DELAY_MS = 15 * 60_000;

/** After `free` failures each next try waits 1 s, 2 s, 4 s … up to 15 min. */
export function loginDelayMs(count: number, free: number): number {
  if (count < free) return 0;
  return Math.min(MAX_DELAY_MS, 1_000 * 2 ** (count - free));
}

/**
 * Reserves one sign-in attempt for `email` from the client `from` (known
 * address or not, so the answer never tells them apart). Counting the
 * attempt before the password is checked means parallel guesses cannot all
 * slip in before the first failure is recorded. Counting per client means a
 * stranger's failures never slow the owner down elsewhere; guesses spread
 * over many clients meet the per-address ceiling in request_limits.tsx.
 * `clearLoginAttempts` resets the address after a success.
 */
export function beginLoginAttempt(
  kv: Deno.Kv,
  email: string,
  from: string,
  free: number,
  now: number,
): Promise<LimitResult> {
  const key = keys.loginAttempts(email, from);
  return retryGuarded(async (): Promise<LimitResult | undefined> => {
    const entry = await kv.get<Attempts>(key);
    const seen = entry.value ?? { count: 0, lastAt: 0 };
    const readyAt = seen.lastAt + loginDelayMs(seen.count, free);
    if (now < readyAt) return { ok: false, retryAfterMs: readyAt - now };
    const res = await kv.atomic()
      .check(entry)
      .set(key, { count: seen.count + 1, lastAt: now } satisfies Attempts, {
        expireIn: ATTEMPTS_TTL_MS,
      })
      .commit();
    if (!res.ok) return undefined;
    return {
      ok: true,
      remaining: Math.max(0, free - seen.count),
      waitMs: loginDelayMs(seen.count + 1, free),
    };
  }, GUARD);
}

/**
 * How long a network's failed sign-in at an address marks it as a guesser
 * there (and how long a fresh network's few passes over the ceiling last).
 */
export const NETWORK_MEMORY_MS = 86_400_000;
/** A network's last failed sign-in at an address (ms since epoch). */
export const NetworkFailureSchema = z.number();

/**
 * The per-address ceiling on sign-in *failures* (wrong passwords actually
 * checked; refused and successful attempts never count), against guesses
 * spread over many clients. Spent, it holds back only the networks that
 * failed here lately: a network (an IPv4 address, an IPv6 /48) with no
 * failure at this address in the last NETWORK_MEMORY_MS is let through, up
 * to `free` attempts a day, reserved before the check so a burst cannot
 * exceed them. So strangers cannot lock the owner out by failing, and
 * guessing stays bounded by the ceiling per window plus, per network the
 * guesser holds, one failure (at most `free` in one burst) a day.
 */
export async function passLoginCeiling(
  kv: Deno.Kv,
  email: string,
  network: string,
  { ceiling, free }: { ceiling: RateLimit; free: number },
  now: number,
): Promise<LimitResult> {
  const windowStart = Math.floor(now / ceiling.windowMs) * ceiling.windowMs;
  const failures = await kv.get<number>(
    keys.rateLimit("login:failures", email, windowStart),
  );
  const count = failures.value ?? 0;
  if (count < ceiling.limit) {
    return { ok: true, remaining: ceiling.limit - count, waitMs: 0 };
  }
  // Spent: wait for the next window, unless this network is fresh here.
  const retryAfterMs = windowStart + ceiling.windowMs - now;
  const last = await kv.get<number>(keys.loginFailure(email, network));
  if (last.value !== null && now - last.value < NETWORK_MEMORY_MS) {
    return { ok: false, retryAfterMs };
  }
  const pass = await hitRateLimit(
    kv,
    "login:fresh",
    `${email} ${network}`,
    { limit: free, windowMs: NETWORK_MEMORY_MS },
    now,
  );
  return pass.ok
    ? pass
    : { ok: false, retryAfterMs: Math.min(retryAfterMs, pass.retryAfterMs) };
}

/** A wrong password was checked: it counts, and marks the network. */
export async function recordLoginFailure(
  kv: Deno.Kv,
  email: string,
  network: string,
  ceiling: RateLimit,
  now: number,
): Promise<void> {
  await hitRateLimit(kv, "login:failures", email, {
    limit: Number.MAX_SAFE_INTEGER,
    windowMs: ceiling.windowMs,
  }, now);
  // Last write wins: any failure in the period marks the network alike.
  await kv.set(keys.loginFailure(email, network), now, {
    expireIn: NETWORK_MEMORY_MS,
  });
}

export async function clearLoginAttempts(
  kv: Deno.Kv,
  email: string,
): Promise<void> {
  for await (const entry of kv.list({ prefix: keys.loginAttemptsOf(email) })) {
    await kv.delete(entry.key);
  }
}
