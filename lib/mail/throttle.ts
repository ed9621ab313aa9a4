// Keeps one instance's sends under the provider's rate limit
// (MAIL_MAX_PER_SECOND) whichever path asks: the queue listener, the sweep,
// a batch, an immediate send. Sends are spaced evenly; a 429's Retry-After
// holds every later send back too, since the provider counts the whole team.
import { MailDeferredError, type Mailer, MailSendError } from "./types.ts";

export interface ThrottleOptions {
  /** 0 (or less): no limit, the mailer is returned as it is. */
  perSecond: number;
  /** A longer wait is refused (MailDeferredError) rather than slept through. */
  maxWaitMs: number;
  /**
   * The deliverer's clock, for a provider's pause (so it agrees with the
   * entries' nextAttemptAt); the spacing itself runs on the real clock.
   */
  now?: () => number;
}

/**
 * Sends are spaced 10 % wider than the limit: requests spaced exactly at it
 * reach the provider with jitter, and two that arrive closer than they left
 * make a window one too many (9 of 25 refused in a loopback test at exactly
 * 5/s against a 5/s limit, none with this margin).
 */
const SPACING_MARGIN = 1.1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createThrottledMailer(
  inner: Mailer,
  { perSecond, maxWaitMs, now = Date.now }: ThrottleOptions,
): Mailer {
  if (!(perSecond > 0)) return inner;
  const gapMs = 1000 * SPACING_MARGIN / perSecond;
  /** performance.now() of the next free slot; each send takes one. */
  let nextSlot = 0;
  /** The provider's Retry-After, on the deliverer's clock. */
  let pausedUntil = 0;
  /** How many 429s have set a pause so far. */
  let pauses = 0;

  /** Waits for a slot; throws MailDeferredError if it is too far away. */
  async function slot(): Promise<void> {
    for (;;) {
      const seen = pauses;
      const mono = performance.now();
      const paused = Math.max(0, pausedUntil - now());
      const at = Math.max(mono + paused, nextSlot);
      if (at - mono > maxWaitMs) {
        throw new MailDeferredError(
          `mail rate limit: no free slot for ${
            Math.ceil((at - mono) / 1000)
          } s`,
          at - mono,
        );
      }
      nextSlot = at + gapMs;
      if (at > mono) await sleep(at - mono);
      // A 429 came back while this send waited: the provider asked every
      // send to wait, this one included, so it queues again behind the pause.
      if (pauses === seen) return;
    }
  }

  return {
    async send(mail) {
      await slot();
      try {
        await inner.send(mail);
      } catch (err) {
        if (err instanceof MailSendError && err.opts.status === 429) {
          const wait = err.opts.retryAfterMs ?? gapMs;
          pausedUntil = Math.max(pausedUntil, now() + wait);
          pauses++;
        }
        throw err;
      }
    },
    close: () => inner.close(),
  };
}
