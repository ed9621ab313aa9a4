// Test double for our Mailer: keeps every mail in memory, lets a test wait for
// mails sent in the background and simulate a failing backend.
import { assertSafeMail } from "./headers.ts";
import type { Mail, Mailer } from "./types.ts";

export type SentMail = Mail & { from: string };

export interface MemoryMailer extends Mailer {
  /** Every mail sent so far, oldest first. */
  sent: SentMail[];
  /** Resolves with the sent mails once at least `count` have been sent. */
  waitFor(count: number, timeoutMs?: number): Promise<SentMail[]>;
  /** Makes the next `n` sends reject, with `error` or a generic one. */
  failNext(n: number, error?: Error): void;
}

interface Waiter {
  count: number;
  resolve: (mails: SentMail[]) => void;
}

export function createMemoryMailer(opts: { from: string }): MemoryMailer {
  const sent: SentMail[] = [];
  let waiters: Waiter[] = [];
  let failures = 0;
  let failure: Error | undefined;
  let closed = false;

  const wake = () => {
    const ready = waiters.filter((w) => sent.length >= w.count);
    waiters = waiters.filter((w) => sent.length < w.count);
    for (const w of ready) w.resolve([...sent]);
  };

  return {
    sent,
    send: (mail) =>
      new Promise((resolve, reject) => {
        assertSafeMail(mail, opts.from);
        // Same contract as the pooled SMTP mailer, so tests catch late sends.
        if (closed) throw new Error("memory mailer is closed");
        if (failures > 0) {
          failures--;
          return reject(
            failure ?? new Error("memory mailer: simulated failure"),
          );
        }
        sent.push({ ...mail, from: opts.from });
        wake();
        resolve();
      }),
    waitFor(count, timeoutMs = 5000) {
      if (sent.length >= count) return Promise.resolve([...sent]);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve: (mails) => {
            // A pending timer would trip Deno's leak checks in the caller's test.
            clearTimeout(timer);
            resolve(mails);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(
            new Error(
              `memory mailer: expected ${count} mail(s) within ${timeoutMs} ms, got ${sent.length}`,
            ),
          );
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    failNext(n, error) {
      failures = n;
      failure = error;
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
