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
   * A backend that sends it appends a digest of the request body, so one key
   * never carries two different bodies.
   */
  idempotencyKey?: string;
}

export interface Mailer {
  /** Sends one mail; rejects on any failure so the caller can retry. */
  send(mail: Mail): Promise<void>;
  /** Releases pooled connections; safe to call twice. */
  close(): Promise<void>;
}

/** What the development mail recorder (./recording.ts) keeps, for /dev/mail. */
export interface RecordedMail extends Mail {
  id: number;
  sentAt: number;
}

export interface Mailbox {
  /** Newest first. */
  list(): RecordedMail[];
  get(id: number): RecordedMail | null;
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
      /**
       * No retry of this request can succeed (e.g. Resend's
       * invalid_idempotent_request): stop retrying, keep it for the operator.
       */
      permanent?: boolean;
    },
  ) {
    super(message);
  }
  get temporary(): boolean {
    return this.opts.temporary;
  }
}

/**
 * Not sent and not tried: the instance's own rate limit (MAIL_MAX_PER_SECOND)
 * or a provider's Retry-After has no slot for it soon enough. The mail waits
 * `retryAfterMs` without the wait counting as a failed attempt.
 */
export class MailDeferredError extends MailSendError {
  override name = "MailDeferredError";
  constructor(message: string, retryAfterMs: number) {
    super(message, { temporary: true, retryAfterMs });
  }
}
