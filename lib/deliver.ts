// Delivers signals from the outbox. The KV queue listener and the cron sweep
// both call `deliver`, which first claims the entry with a lease in a commit
// guarded by its versionstamp: of two deliverers (queue redelivery, sweep,
// another instance) only one sends. Only a crash between sending and deleting
// the entry can repeat a mail (at-least-once), never a race.
import type { Deps } from "./deps.ts";
import type { EmailRenderer } from "./emails.ts";
import { keys } from "./kv_keys.ts";
import {
  type OutboxEntry,
  QueueMessageSchema,
  type Signal,
  type SignalType,
} from "./signals.ts";
import { getUser } from "./users.ts";

/** How long a claim lasts; longer than any mail backend's timeouts. */
export const LEASE_MS = 60_000;
/** The sweep leaves entries younger than this to the queue. */
export const SWEEP_MIN_AGE_MS = 60_000;
const MAX_BACKOFF_MS = 3_600_000;
/** Tries of the delete after a sent mail when the database is busy. */
const BUSY_RETRIES = 5;

export type DeliverOutcome = "sent" | "gone" | "busy" | "failed";

type SignalHandler<T extends SignalType> = (
  signal: Extract<Signal, { type: T }>,
  ctx: HandlerContext,
) => Promise<void>;

interface HandlerContext extends Deps {
  emails: EmailRenderer;
}

export const ACTIVATION_PURPOSE = "activation";

const handlers: { [T in SignalType]: SignalHandler<T> } = {
  user_registered: sendActivationEmail,
};

async function sendActivationEmail(
  signal: { userId: string },
  ctx: HandlerContext,
): Promise<void> {
  const now = ctx.clock.now();
  const user = await getUser(ctx.kv, signal.userId, now);
  // Expired, deleted or already activated: nothing left to announce.
  if (!user || user.isActivated) return;
  const token = await ctx.signer.sign(ACTIVATION_PURPOSE, {
    sub: user.id,
    iat: now,
    v: user.tokenVersion,
  });
  const mail = await ctx.emails.render("activation", user.lang, {
    first_name: user.firstName,
    app_name: ctx.config.appName,
    link: `${ctx.config.appOrigin}/activate/${token}`,
    hours: String(Math.round(ctx.config.activationMaxAgeMs / 3_600_000)),
  });
  await ctx.mailer.send({ to: user.email, ...mail });
}

export interface SweepReport {
  sent: number;
  failed: number;
  skipped: number;
}

export interface Deliverer {
  deliver(outboxId: string): Promise<DeliverOutcome>;
  /** For `kv.listenQueue`: throws on failure so the queue retries. */
  onQueueMessage(message: unknown): Promise<void>;
  /** Delivers what the queue did not: old entries and given-up messages. */
  sweep(opts?: { minAgeMs?: number }): Promise<SweepReport>;
}

export function createDeliverer(
  deps: Deps,
  emails: EmailRenderer,
): Deliverer {
  const { kv, clock, log } = deps;
  const ctx: HandlerContext = { ...deps, emails };

  async function claim(
    outboxId: string,
  ): Promise<{ entry: OutboxEntry; versionstamp: string } | DeliverOutcome> {
    const current = await kv.get<OutboxEntry>(keys.outboxEntry(outboxId));
    if (!current.value) return "gone";
    const now = clock.now();
    if (current.value.leaseUntil > now) return "busy";
    const entry: OutboxEntry = {
      ...current.value,
      attempts: current.value.attempts + 1,
      lastAttemptAt: now,
      leaseUntil: now + LEASE_MS,
    };
    const res = await kv.atomic().check(current)
      .set(keys.outboxEntry(outboxId), entry).commit();
    return res.ok ? { entry, versionstamp: res.versionstamp } : "busy";
  }

  async function deliver(outboxId: string): Promise<DeliverOutcome> {
    const claimed = await claim(outboxId);
    if (typeof claimed === "string") return claimed;
    const { entry, versionstamp } = claimed;
    const fields = {
      outboxId,
      signal: entry.signal.type,
      attempt: entry.attempts,
    };
    try {
      const handler = handlers[entry.signal.type] as SignalHandler<SignalType>;
      await handler(entry.signal, ctx);
    } catch (err) {
      const now = clock.now();
      const backoff = Math.min(
        MAX_BACKOFF_MS,
        SWEEP_MIN_AGE_MS * 2 ** (entry.attempts - 1),
      );
      // Release the lease so a retry (queue or sweep) can claim it again.
      await kv.atomic()
        .check({ key: keys.outboxEntry(outboxId), versionstamp })
        .set(
          keys.outboxEntry(outboxId),
          {
            ...entry,
            leaseUntil: 0,
            lastError: err instanceof Error ? err.message : String(err),
            nextAttemptAt: now + backoff,
          } satisfies OutboxEntry,
        )
        .commit();
      log.warn("signal delivery failed", { ...fields, error: err });
      return "failed";
    }
    // The mail is out: a failed delete now would send it again after the
    // lease, so a busy database (another process on the same file) is retried.
    for (let attempt = 1;; attempt++) {
      try {
        await kv.atomic()
          .delete(keys.outboxEntry(outboxId))
          .delete(keys.undelivered(outboxId))
          .commit();
        break;
      } catch (err) {
        if (attempt >= BUSY_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 10 * attempt));
      }
    }
    log.info("signal delivered", fields);
    return "sent";
  }

  return {
    deliver,
    async onQueueMessage(message) {
      const parsed = QueueMessageSchema.safeParse(message);
      if (!parsed.success) {
        log.error("queue message ignored: unknown shape");
        return;
      }
      if (await deliver(parsed.data.outboxId) === "failed") {
        throw new Error(`delivery of ${parsed.data.outboxId} failed`);
      }
    },
    async sweep({ minAgeMs = SWEEP_MIN_AGE_MS } = {}) {
      const report: SweepReport = { sent: 0, failed: 0, skipped: 0 };
      const now = clock.now();
      for await (
        const { value } of kv.list<OutboxEntry>({ prefix: keys.outbox() })
      ) {
        if (now - value.createdAt < minAgeMs || value.nextAttemptAt > now) {
          report.skipped++;
          continue;
        }
        let outcome: DeliverOutcome;
        try {
          outcome = await deliver(value.id);
        } catch (err) {
          // A busy database (another process on the same file) fails one
          // entry, not the whole sweep; the entry stays for the next one.
          log.warn("outbox entry skipped", { outboxId: value.id, error: err });
          report.skipped++;
          continue;
        }
        if (outcome === "sent") report.sent++;
        else if (outcome === "failed") report.failed++;
        else report.skipped++;
      }
      for await (
        const entry of kv.list<unknown>({ prefix: keys.undeliveredAll() })
      ) {
        // The queue gave up; the outbox entry (if any) was retried above.
        const outboxId = String(entry.key.at(-1));
        const left = await kv.get(keys.outboxEntry(outboxId));
        if (!left.value) await kv.delete(entry.key);
        else log.warn("queue gave up on a signal", { outboxId });
      }
      return report;
    },
  };
}
