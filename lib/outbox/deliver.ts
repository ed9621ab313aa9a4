// Delivers signals from the outbox. The KV queue listener and the cron sweep
// both call `deliver`, which first claims the entry with a lease in a commit
// guarded by its versionstamp: of two deliverers (queue redelivery, sweep,
// another instance) only one sends. Only a crash between sending and deleting
// the entry can repeat a mail (at-least-once), never a race. Every path
// claims the same way, so every path waits for an entry's `nextAttemptAt`
// (backoff, a provider's Retry-After), shares one rate limit per instance
// (MAIL_MAX_PER_SECOND), and gives up the same way: after MAIL_MAX_ATTEMPTS
// or MAIL_MAX_AGE an entry becomes a dead letter, kept for the operator.
//
// Why this file is long: createDeliverer is one closure over the state every
// path shares (the claims in flight, the prefetch window, the sends a
// shutdown must wait for, the batched commits); its steps are small inner
// functions. Cutting it into modules would pass that state around by hand,
// which is where claim and shutdown bugs have come from (issue 14's
// prefetch); the retry rules, the handlers, the budgets and the batching are
// already their own files.
import type { Deps } from "../app/deps.ts";
import type { Deliverer, DeliverOutcome, SweepReport } from "./deliverer.ts";
import type { EmailRenderer } from "../mail/templates.ts";
import { keys } from "../kv/keys.ts";
import { countMail, recordSignalToMail } from "../app/metrics.ts";
import { createThrottledMailer } from "../mail/throttle.ts";
import { MailDeferredError } from "../mail/types.ts";
import { retryDelayMs, whyGiveUp } from "./retry_policy.ts";
import {
  type HandlerContext,
  handlers,
  type SignalHandler,
} from "./handlers.ts";
import {
  type DeadLetter,
  deadLetterTtlMs,
  type OutboxEntry,
  QueueMessageSchema,
  type SignalType,
} from "./signals.ts";
import { createBatcher } from "./batcher.ts";
import { type BudgetVerdict, planMailBudgets } from "./mail_budget.ts";

/** How long a claim lasts; longer than any mail backend's timeouts. */
export const LEASE_MS = 60_000;
/** The sweep leaves entries younger than this to the queue. */
export const SWEEP_MIN_AGE_MS = 60_000;
/** kv.getMany reads at most this many keys per call. */
const KV_GET_MANY_MAX = 10;
/** Entries per batch: a check and a set each, well within KV's atomic limits. */
const MAX_BATCH = 50;
/**
 * Due entries a queue batch also takes besides its own messages: the KV
 * queue hands messages over more slowly than mail goes out (README,
 * Benchmarks), so mails stop waiting for their own message.
 */
const PREFETCH = 25;
/**
 * Claimed entries being sent at once. More wait unclaimed (their queue
 * messages held), so a slow relay never holds a claim near its lease.
 */
export const MAX_SENDING = 50;
/** Tries of the delete after a sent mail when the database is busy. */
const BUSY_RETRIES = 5;
/**
 * The longest a claimed entry waits for a slot under MAIL_MAX_PER_SECOND.
 * With the send's own timeout (15 s for Resend) it stays well inside the
 * lease; a longer queue defers the entry instead of holding it.
 */
export const THROTTLE_MAX_WAIT_MS = 20_000;

function deadLetter(
  entry: OutboxEntry,
  lastError: string,
  now: number,
): DeadLetter {
  const ttl = deadLetterTtlMs(entry.signal);
  return {
    ...entry,
    leaseUntil: 0,
    lastError,
    deadAt: now,
    ...(ttl === null ? {} : { expiresAt: now + ttl }),
  };
}

export function createDeliverer(
  deps: Deps,
  emails: EmailRenderer,
  {
    track = (work) => work,
  }: {
    /**
     * Gets every send this deliverer starts, so shutdown can wait for the
     * ones no caller awaits (a queue message is answered at the claim).
     */
    track?: (work: Promise<unknown>) => unknown;
  } = {},
): Deliverer {
  const { kv, clock, log, config } = deps;
  // One limiter for every path of this instance (queue, sweep, batch, an
  // immediate send): they all go through this deliverer.
  const mailer = createThrottledMailer(deps.mailer, {
    perSecond: config.mail.maxPerSecond,
    maxWaitMs: THROTTLE_MAX_WAIT_MS,
    now: () => clock.now(),
  });
  const ctx: HandlerContext = {
    ...deps,
    mailer,
    emails,
    // Keyed by a fresh object: the batcher merges equal keys, and two mails
    // to one address must spend twice.
    spendBudget: async (to) => {
      const verdict = await write({ spend: to });
      if (verdict instanceof Error) throw verdict;
      return verdict!;
    },
  };

  /** `before`: the entry as read, given back when a send is deferred. */
  type Claimed = {
    entry: OutboxEntry;
    before: OutboxEntry;
    versionstamp: string;
  };

  /** Why a current entry cannot be claimed now, if it cannot. */
  function unclaimable(current: OutboxEntry, now: number) {
    if (current.leaseUntil > now) return "busy";
    // A queue redelivery (or an immediate send) must not jump the backoff or
    // a provider's Retry-After that the last attempt set.
    if (current.nextAttemptAt > now) return "not_due";
    return null;
  }

  function leased(current: OutboxEntry, now: number): OutboxEntry {
    return {
      ...current,
      attempts: current.attempts + 1,
      lastAttemptAt: now,
      leaseUntil: now + LEASE_MS,
    };
  }

  async function claim(outboxId: string): Promise<Claimed | DeliverOutcome> {
    const current = await kv.get<OutboxEntry>(keys.outboxEntry(outboxId));
    if (!current.value) return "gone";
    const now = clock.now();
    const not = unclaimable(current.value, now);
    if (not) return not;
    const entry = leased(current.value, now);
    const res = await kv.atomic().check(current)
      .set(keys.outboxEntry(outboxId), entry).commit();
    return res.ok
      ? { entry, before: current.value, versionstamp: res.versionstamp }
      : "busy";
  }

  /**
   * Claims many entries in one commit (each still guarded by its own
   * versionstamp); if any moved meanwhile, falls back to one claim each.
   */
  async function claimMany(
    ids: string[],
  ): Promise<Map<string, Claimed | DeliverOutcome>> {
    const out = new Map<string, Claimed | DeliverOutcome>();
    const read: Deno.KvEntryMaybe<OutboxEntry>[] = [];
    for (let i = 0; i < ids.length; i += KV_GET_MANY_MAX) {
      const chunk = ids.slice(i, i + KV_GET_MANY_MAX).map(keys.outboxEntry);
      read.push(...await kv.getMany<OutboxEntry[]>(chunk));
    }
    const now = clock.now();
    const atomic = kv.atomic();
    const claiming: { id: string; entry: OutboxEntry; before: OutboxEntry }[] =
      [];
    read.forEach((current, i) => {
      if (!current.value) return out.set(ids[i], "gone");
      const not = unclaimable(current.value, now);
      if (not) return out.set(ids[i], not);
      const entry = leased(current.value, now);
      atomic.check(current).set(keys.outboxEntry(ids[i]), entry);
      claiming.push({ id: ids[i], entry, before: current.value });
    });
    if (!claiming.length) return out;
    const res = await atomic.commit();
    for (const { id, entry, before } of claiming) {
      out.set(
        id,
        res.ok
          ? { entry, before, versionstamp: res.versionstamp }
          : await claim(id),
      );
    }
    return out;
  }

  /** The same fields on both outcomes, so one query finds every attempt. */
  const logFields = (id: string, entry: OutboxEntry, ms: number) => ({
    outboxId: id,
    signal: entry.signal.type,
    attempt: entry.attempts,
    ms: Math.round(ms),
  });

  /**
   * Writes the entry back after a send that did not happen, in a commit
   * guarded by the claim. If even that fails (a busy database), the lease
   * simply runs out: the retry comes later, and the batch's sent mails are
   * still cleared.
   */
  async function putBack(
    outboxId: string,
    versionstamp: string,
    write: (atomic: Deno.AtomicOperation) => Deno.AtomicOperation,
  ) {
    try {
      await write(
        kv.atomic().check({ key: keys.outboxEntry(outboxId), versionstamp }),
      ).commit();
    } catch (releaseErr) {
      log.warn("outbox lease not released", { outboxId, error: releaseErr });
    }
  }

  /** Runs the handler for a claimed entry; a failure releases the lease. */
  async function send(
    outboxId: string,
    { entry, before, versionstamp }: Claimed,
  ): Promise<{ outcome: "sent" | "failed" | "deferred" | "dead"; ms: number }> {
    const started = performance.now();
    try {
      const handler = handlers[entry.signal.type] as SignalHandler<SignalType>;
      await handler(entry.signal, ctx, {
        outboxId,
        createdAt: entry.createdAt,
      });
      return { outcome: "sent", ms: performance.now() - started };
    } catch (err) {
      const ms = performance.now() - started;
      const now = clock.now();
      const key = keys.outboxEntry(outboxId);
      if (err instanceof MailDeferredError) {
        // Nothing was tried: the entry goes back as it was, only later.
        const wait = err.opts.retryAfterMs ?? 0;
        await putBack(outboxId, versionstamp, (a) =>
          a.set(
            key,
            {
              ...before,
              leaseUntil: 0,
              nextAttemptAt: Math.max(before.nextAttemptAt, now + wait),
            } satisfies OutboxEntry,
          ));
        log.info("signal delivery deferred", {
          outboxId,
          signal: entry.signal.type,
          retryInSeconds: Math.ceil(wait / 1000),
        });
        return { outcome: "deferred", ms };
      }
      const backoff = retryDelayMs(entry.attempts, err);
      const lastError = err instanceof Error ? err.message : String(err);
      const gaveUp = whyGiveUp(entry, err, now + backoff, config.mail);
      if (gaveUp) {
        const ttl = deadLetterTtlMs(entry.signal);
        await putBack(
          outboxId,
          versionstamp,
          (a) =>
            a.delete(key).delete(keys.undelivered(outboxId))
              // Out of the outbox: /healthz's backlog counts it done.
              .sum(keys.outboxDone(), 1n)
              .sum(keys.deliveryFailures(), 1n)
              .set(
                keys.deadLetter(outboxId),
                deadLetter(entry, lastError, now),
                // A goodbye's lapses (deadLetterTtlMs); others stay.
                ttl === null ? undefined : { expireIn: ttl },
              ),
        );
        countMail("dead_lettered", entry.signal.type);
        log.error("signal delivery failed", {
          ...logFields(outboxId, entry, ms),
          error: err,
          gaveUp,
        });
        return { outcome: "dead", ms };
      }
      // Release the lease so a retry (queue or sweep) can claim it again.
      await putBack(
        outboxId,
        versionstamp,
        (a) =>
          a.sum(keys.deliveryFailures(), 1n).set(
            key,
            {
              ...entry,
              leaseUntil: 0,
              lastError,
              nextAttemptAt: now + backoff,
            } satisfies OutboxEntry,
          ),
      );
      countMail("failed", entry.signal.type);
      log.warn("signal delivery failed", {
        ...logFields(outboxId, entry, ms),
        error: err,
        retryInSeconds: Math.round(backoff / 1000),
      });
      return { outcome: "failed", ms };
    }
  }

  type Sent = { id: string; entry: OutboxEntry; ms: number };
  type Write = { spend: string } | { sent: Sent };

  /**
   * One commit for what the sends under way have to write: the budgets of
   * the mails about to go (lib/outbox/mail_budget.ts) and the deletes of the
   * mails that went. Each commit is a disk flush, the cost that bounds
   * delivery; the two used to take one each. Only sums and deletes: no
   * check can fail it, only the database.
   */
  async function commitWrites(
    writes: Write[],
  ): Promise<(BudgetVerdict | Error | undefined)[]> {
    const tos = writes.flatMap((w) => "spend" in w ? [w.spend] : []);
    const sent = writes.flatMap((w) => "sent" in w ? [w.sent] : []);
    const budget = tos.length ? planMailBudgets(deps, tos) : null;
    // The mails are out: a failed delete now would send them again after the
    // lease, so a busy database (another process on the same file) is retried
    // (a failed commit applies nothing, so the sums are not counted twice).
    for (let attempt = 1;; attempt++) {
      const atomic = kv.atomic();
      budget?.addTo(atomic);
      for (const { id } of sent) {
        atomic.delete(keys.outboxEntry(id)).delete(keys.undelivered(id));
      }
      if (sent.length) atomic.sum(keys.outboxDone(), BigInt(sent.length));
      try {
        await atomic.commit();
        break;
      } catch (err) {
        if (attempt >= BUSY_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 10 * attempt));
      }
    }
    const now = clock.now();
    for (const { id, entry, ms } of sent) {
      log.info("signal delivered", logFields(id, entry, ms));
      countMail("sent", entry.signal.type);
      recordSignalToMail(now - entry.createdAt, entry.signal.type);
    }
    // The deletes are done whatever the budget read says: a failed read
    // fails only the mails that waited for their verdict.
    let verdicts: BudgetVerdict[] | Error = [];
    try {
      if (budget) verdicts = await budget.verdicts();
    } catch (err) {
      verdicts = err instanceof Error ? err : new Error(String(err));
    }
    let nth = 0;
    return writes.map((w) =>
      "sent" in w
        ? undefined
        : verdicts instanceof Error
        ? verdicts
        : verdicts[nth++]
    );
  }

  // A sent mail leaves the outbox as soon as the previous commit is done,
  // together with whatever else was sent meanwhile: not at the end of its
  // whole batch, which a crash would cut off with every mail of the batch
  // sent and still listed (sent again after the lease). A mail about to go
  // spends its budget in the same commit.
  const write = createBatcher(commitWrites, {
    maxBatch: MAX_BATCH,
    maxInFlight: 1,
  });

  // What this process is sending, by outbox id: a caller asking for an entry
  // already under way here shares that send instead of finding it leased.
  const sending = new Map<string, Promise<DeliverOutcome>>();

  /** Due entries nobody holds, oldest first, besides `skip`. */
  async function dueEntries(limit: number, skip: Set<string>) {
    const now = clock.now();
    const out: string[] = [];
    const entries = kv.list<OutboxEntry>({ prefix: keys.outbox() }, {
      limit: limit * 2,
      batchSize: limit * 2,
    });
    for await (const { value } of entries) {
      if (out.length >= limit) break;
      if (skip.has(value.id) || sending.has(value.id)) continue;
      if (value.leaseUntil > now || value.nextAttemptAt > now) continue;
      out.push(value.id);
    }
    return out;
  }

  /**
   * Claims `ids` (and, with `prefetch`, up to that many other due entries)
   * and starts their sends. Resolves once the claim is committed, with each
   * id's send; a send failure is handled by `send` (backoff, dead letter),
   * so these promises reject only when KV itself fails.
   */
  async function start(
    ids: string[],
    prefetch = 0,
  ): Promise<Promise<DeliverOutcome>[]> {
    const extra = prefetch > 0
      ? await dueEntries(prefetch, new Set(ids)).catch(() => [])
      : [];
    // From here to the registration below nothing awaits, so `sending`
    // cannot change in between.
    const already = new Map(
      ids.filter((id) => sending.has(id)).map((id) => [id, sending.get(id)!]),
    );
    const all = [...new Set([...ids, ...extra])].filter((id) =>
      !sending.has(id)
    );
    // Registered before the claim's first await: a caller asking for one of
    // these meanwhile shares its send instead of finding a lease.
    const outcomes = new Map<string, PromiseWithResolvers<DeliverOutcome>>();
    for (const id of all) {
      const done = Promise.withResolvers<DeliverOutcome>();
      done.promise.catch(() => {}); // its callers see the rejection
      outcomes.set(id, done);
      sending.set(id, done.promise);
      track(done.promise.finally(() => sending.delete(id)).catch(() => {}));
    }
    let claims: Map<string, Claimed | DeliverOutcome>;
    try {
      claims = all.length === 1
        ? new Map([[all[0], await claim(all[0])]])
        : all.length
        ? await claimMany(all)
        : new Map();
    } catch (err) {
      for (const done of outcomes.values()) done.reject(err);
      throw err;
    }
    const run = async (id: string): Promise<DeliverOutcome> => {
      const claimed = claims.get(id)!;
      if (typeof claimed === "string") return claimed;
      const { outcome, ms } = await send(id, claimed);
      // Whatever else goes wrong, what was sent must leave the outbox, or it
      // would be sent again when its lease runs out.
      if (outcome === "sent") {
        await write({ sent: { id, entry: claimed.entry, ms } });
      }
      return outcome;
    };
    for (const id of all) {
      const done = outcomes.get(id)!;
      run(id).then(done.resolve, done.reject);
    }
    // A send another caller started is "busy" for this one, unless it
    // failed: then this caller fails too.
    const shared = async (under: Promise<DeliverOutcome>) =>
      await under === "failed" ? "failed" : "busy";
    return ids.map((id, i) =>
      already.has(id) || ids.indexOf(id) !== i
        ? shared(already.get(id) ?? outcomes.get(id)!.promise)
        : outcomes.get(id)!.promise
    );
  }

  async function deliver(outboxId: string): Promise<DeliverOutcome> {
    const [outcome] = await start([outboxId]);
    return await outcome;
  }

  /** Resolves once fewer than MAX_SENDING sends are under way. */
  async function sendSlot() {
    while (sending.size >= MAX_SENDING) {
      await Promise.race(sending.values()).catch(() => {});
    }
  }

  // A queue message is answered once its entry is claimed, not sent: the
  // KV queue hands this process only so many messages at once (20 in Deno's
  // SQLite backend), so holding each until its mail is out capped delivery
  // at 20 mails per send time. The claim makes the entry ours; a send that
  // fails later writes its backoff to the entry, and the sweep retries it
  // as it retries any failed send (a queue redelivery would find it not due
  // anyway). Each claim commit also takes other due entries, up to the free
  // send slots, so mails do not wait for their own message either.
  const startQueued = createBatcher(
    async (ids: string[]) => {
      for (let next = 0; next < ids.length;) {
        await sendSlot();
        const free = MAX_SENDING - sending.size;
        const take = ids.slice(next, next += free);
        const spare = free - take.length;
        await start(take, Math.min(PREFETCH, spare));
      }
      return ids.map(() => undefined);
    },
    { maxBatch: MAX_BATCH, maxInFlight: 1 },
  );

  return {
    deliver,
    async onQueueMessage(message) {
      const parsed = QueueMessageSchema.safeParse(message);
      if (!parsed.success) {
        log.error("queue message ignored: unknown shape");
        return;
      }
      // Throws only when KV fails to claim: then the queue retries. A send
      // that fails later is retried by the sweep once its backoff is over.
      await startQueued(parsed.data.outboxId);
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
        else if (outcome === "failed" || outcome === "dead") report.failed++;
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
