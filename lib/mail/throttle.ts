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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createThrottledMailer(
  inner: Mailer,
  { perSecond, maxWaitMs, now = Date.now }: ThrottleOptions,
): Mailer {
  if (!(perSecond > 0)) return inner;
  const gapMs = 1000 / perSecond;
  /** performance.now() of the next free slot; each send takes one. */
  let nextSlot = 0;
  /** The provider's Retry-After, on the deliverer's clock. */
  let pausedUntil = 0;
  return {
    async send(mail) {
      const paused = Math.max(0, pausedUntil - now());
      const mono = performance.now();
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
      try {
        await inner.send(mail);
      } catch (err) {
        if (err instanceof MailSendError && err.opts.status === 429) {
          const wait = err.opts.retryAfterMs ?? gapMs;
          pausedUntil = Math.max(pausedUntil, now() + wait);
        }
        throw err;
      }
    },
    close: () => inner.close(),
  };
}
