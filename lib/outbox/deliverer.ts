// The contract of signal delivery: what the HTTP app, the queue listener and
// the cron sweep may ask of a deliverer. lib/outbox/deliver.ts implements it; this
// file imports nothing, so modules that only need the contract (lib/app/deps.ts)
// do not depend on delivery, mail or the users store.

/**
 * `not_due`: its nextAttemptAt has not come (left alone); `deferred`: no
 * rate-limit slot soon enough (not counted as an attempt); `dead`: this
 * failure made it a dead letter.
 */
export type DeliverOutcome =
  | "sent"
  | "gone"
  | "busy"
  | "not_due"
  | "deferred"
  | "failed"
  | "dead";

export interface SweepReport {
  sent: number;
  failed: number;
  skipped: number;
}

export interface Deliverer {
  deliver(outboxId: string): Promise<DeliverOutcome>;
  /**
   * For `kv.listenQueue`: resolves once the entry is claimed and its send
   * started; throws when it cannot be claimed (KV failed) so the queue
   * retries. A failed send is retried by the sweep, like any other.
   */
  onQueueMessage(message: unknown): Promise<void>;
  /** Delivers what the queue did not: old entries and given-up messages. */
  sweep(opts?: { minAgeMs?: number }): Promise<SweepReport>;
}
