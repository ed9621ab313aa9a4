// Development only: keeps the last mails sent through any backend in a small
// ring buffer so /dev/mail can show them. Never used in production (see
// lib/app/server.ts), so real mail is never kept in memory.
import type { Clock } from "../app/clock.ts";
import type { Mailbox, Mailer, RecordedMail } from "./types.ts";

// The contract lives in ./types.ts, so lib/app/deps.ts can name it without
// importing this implementation.
export type { Mailbox, RecordedMail };

export function createRecordingMailer(
  inner: Mailer,
  opts: { clock: Clock; capacity?: number },
): Mailer & { mailbox: Mailbox } {
  const capacity = opts.capacity ?? 100;
  const ring: RecordedMail[] = [];
  let nextId = 1;
  return {
    async send(mail) {
      await inner.send(mail);
      // Recorded only once sent, so the list shows what really went out.
      ring.push({ ...mail, id: nextId++, sentAt: opts.clock.now() });
      if (ring.length > capacity) ring.shift();
    },
    close: () => inner.close(),
    mailbox: {
      list: () => [...ring].reverse(),
      get: (id) => ring.find((m) => m.id === id) ?? null,
    },
  };
}
