// What /healthz reports: can we reach KV, how much mail waits in the outbox
// and for how long, how many deliveries failed, how many mails stopped
// retrying (dead letters), how many the budgets refused. Only an unreachable
// KV makes the instance unhealthy (503): a stuck outbox is a mail provider's
// outage, which restarting or draining this instance cannot fix, so it shows
// as "degraded" with 200 for monitoring. Dead letters never make the status
// degraded: they wait for an operator, and would otherwise keep it degraded
// for good.
//
// The outbox figures are counters and one key read: the probe costs the same
// with ten waiting mails or a million, and /healthz caches it for a few
// seconds. Dead letters (rare, an operator's list) are counted up to a cap.
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import { mailBudgetRefusals } from "../outbox/mail_budget.ts";
import type { OutboxEntry } from "../outbox/signals.ts";

const KV_TIMEOUT_MS = 2_000;
/** Counting dead letters stops here, so a pile of them stays cheap. */
export const DEAD_LETTER_COUNT_LIMIT = 10_000;

export interface HealthReport {
  status: "ok" | "degraded" | "unavailable";
  version: string;
  kv: { ok: boolean; error?: string };
  outbox: {
    /** Entries waiting: signals added minus signals done (counters). */
    backlog: number | null;
    oldestAgeSeconds: number | null;
  };
  /** Delivery attempts that failed (and were retried), ever. */
  failedDeliveries: number | null;
  /** Mails that stopped retrying; at most DEAD_LETTER_COUNT_LIMIT. */
  deadLetters: number | null;
  mail: {
    /** Mails the hourly budgets kept from being sent, ever. */
    budgetRefused: number | null;
  };
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

/** Every record under ["counters", …] is a KvU64 that only grows. */
export const CounterSchema = z.instanceof(Deno.KvU64);

function counterValue(entry: Deno.KvEntryMaybe<Deno.KvU64>): number {
  return entry.value ? Number(entry.value.value) : 0;
}

async function readOutbox(kv: Deno.Kv, now: number) {
  const [added, done, failed] = await kv.getMany<Deno.KvU64[]>([
    keys.outboxAdded(),
    keys.outboxDone(),
    keys.deliveryFailures(),
  ]);
  // Outbox ids are UUIDv7, ordered by time: the first key is the oldest.
  let oldest: number | null = null;
  for await (
    const { value } of kv.list<OutboxEntry>({ prefix: keys.outbox() }, {
      limit: 1,
    })
  ) oldest = value.createdAt;
  return {
    // Entries from before the counters existed can make this negative.
    backlog: Math.max(0, counterValue(added) - counterValue(done)),
    failed: counterValue(failed),
    oldestAgeSeconds: oldest === null
      ? 0
      : Math.max(0, Math.round((now - oldest) / 1000)),
    budgetRefused: await mailBudgetRefusals(kv),
  };
}

async function countDeadLetters(kv: Deno.Kv): Promise<number> {
  let n = 0;
  const entries = kv.list({ prefix: keys.deadLetters() }, {
    limit: DEAD_LETTER_COUNT_LIMIT,
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
      Promise.all([readOutbox(kv, opts.now), countDeadLetters(kv)]),
      opts.timeoutMs ?? KV_TIMEOUT_MS,
    );
    const stuck = outbox.oldestAgeSeconds * 1000 > opts.maxOutboxAgeMs;
    return {
      status: stuck ? "degraded" : "ok",
      version: opts.version,
      kv: { ok: true },
      outbox: {
        backlog: outbox.backlog,
        oldestAgeSeconds: outbox.oldestAgeSeconds,
      },
      failedDeliveries: outbox.failed,
      deadLetters,
      mail: { budgetRefused: outbox.budgetRefused },
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
      outbox: { backlog: null, oldestAgeSeconds: null },
      failedDeliveries: null,
      deadLetters: null,
      mail: { budgetRefused: null },
      passwords: opts.passwords,
      log: opts.log,
    };
  }
}
