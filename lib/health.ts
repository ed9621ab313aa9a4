// What /healthz reports: can we reach KV, how much mail waits in the outbox
// and for how long, how many entries failed their last attempt. Only an
// unreachable KV makes the instance unhealthy (503): a stuck outbox is a mail
// provider's outage, which restarting or draining this instance cannot fix,
// so it shows as "degraded" with 200 for monitoring to alert on. Dead letters
// (mails that stopped retrying) are counted apart and never make the status
// degraded: they wait for an operator, and would otherwise keep it degraded
// for good.
import { keys } from "./kv_keys.ts";
import type { OutboxEntry } from "./signals.ts";

/** Counting stops here so a huge backlog cannot make the probe slow. */
export const BACKLOG_COUNT_LIMIT = 10_000;
const KV_TIMEOUT_MS = 2_000;

export interface HealthReport {
  status: "ok" | "degraded" | "unavailable";
  version: string;
  kv: { ok: boolean; error?: string };
  outbox: {
    /** Entries waiting; at most BACKLOG_COUNT_LIMIT (then `capped`). */
    backlog: number | null;
    capped: boolean;
    oldestAgeSeconds: number | null;
  };
  /** Outbox entries whose last attempt failed (they are retried). */
  failedDeliveries: number | null;
  /** Mails that stopped retrying; at most BACKLOG_COUNT_LIMIT. */
  deadLetters: number | null;
  /** Which Argon2id implementation hashes, and how many jobs wait for it. */
  passwords: { backend: string; queued: number };
  /** Log lines dropped since start because stdout did not keep up. */
  log: { dropped: number };
}

export interface HealthOptions {
  now: number;
  version: string;
  /** The oldest entry may wait this long before the status is "degraded". */
  maxOutboxAgeMs: number;
  timeoutMs?: number;
  passwords: HealthReport["passwords"];
  log: HealthReport["log"];
}

async function scanOutbox(kv: Deno.Kv, now: number) {
  let backlog = 0;
  let failed = 0;
  let oldest: number | null = null;
  const entries = kv.list<OutboxEntry>({ prefix: keys.outbox() }, {
    limit: BACKLOG_COUNT_LIMIT,
    batchSize: 500,
  });
  for await (const { value } of entries) {
    backlog++;
    if (value.lastError !== null) failed++;
    if (oldest === null || value.createdAt < oldest) oldest = value.createdAt;
  }
  return {
    backlog,
    failed,
    oldestAgeSeconds: oldest === null
      ? 0
      : Math.max(0, Math.round((now - oldest) / 1000)),
  };
}

async function countDeadLetters(kv: Deno.Kv): Promise<number> {
  let n = 0;
  const entries = kv.list({ prefix: keys.deadLetters() }, {
    limit: BACKLOG_COUNT_LIMIT,
    batchSize: 500,
  });
  for await (const _ of entries) n++;
  return n;
}

/** Rejects when `work` takes longer than `ms` (a remote KV can hang). */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(
  kv: Deno.Kv,
  opts: HealthOptions,
): Promise<HealthReport> {
  try {
    const [outbox, deadLetters] = await within(
      Promise.all([scanOutbox(kv, opts.now), countDeadLetters(kv)]),
      opts.timeoutMs ?? KV_TIMEOUT_MS,
    );
    const stuck = outbox.oldestAgeSeconds * 1000 > opts.maxOutboxAgeMs;
    return {
      status: stuck ? "degraded" : "ok",
      version: opts.version,
      kv: { ok: true },
      outbox: {
        backlog: outbox.backlog,
        capped: outbox.backlog >= BACKLOG_COUNT_LIMIT,
        oldestAgeSeconds: outbox.oldestAgeSeconds,
      },
      failedDeliveries: outbox.failed,
      deadLetters,
      passwords: opts.passwords,
      log: opts.log,
    };
  } catch (err) {
    return {
      status: "unavailable",
      version: opts.version,
      kv: {
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      },
      outbox: { backlog: null, capped: false, oldestAgeSeconds: null },
      failedDeliveries: null,
      deadLetters: null,
      passwords: opts.passwords,
      log: opts.log,
    };
  }
}
