// The one interface every mail backend implements; the app never knows which
// backend it talks to.

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * The same for every attempt at the same mail, so a provider that supports
   * idempotency keys sends it once even when we retry after a lost answer.
   */
  idempotencyKey?: string;
}

export interface Mailer {
  /** Sends one mail; rejects on any failure so the caller can retry. */
  send(mail: Mail): Promise<void>;
  /** Releases pooled connections; safe to call twice. */
  close(): Promise<void>;
}

/** Thrown for a mail that must never be sent as it is (header injection). */
export class InvalidMailError extends Error {
  override name = "InvalidMailError";
}

/**
 * A provider refused or failed a send. `temporary` failures (rate limits,
 * outages) are worth retrying soon; the others need the operator (a wrong API
 * key, an unverified sender) and are retried at the slowest pace.
 */
export class MailSendError extends Error {
  override name = "MailSendError";
  constructor(
    message: string,
    readonly opts: {
      temporary: boolean;
      status?: number;
      code?: string;
      /** The provider asked us to wait this long (Retry-After). */
      retryAfterMs?: number;
    },
  ) {
    super(message);
  }
  get temporary(): boolean {
    return this.opts.temporary;
  }
}
