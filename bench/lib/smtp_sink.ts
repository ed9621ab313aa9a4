// A loopback smtp-server that accepts everything and notes when each mail
// arrived, so both the app and the bare nodemailer script are timed by the
// same receiver.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface SmtpSink {
  port: number;
  /** performance.now() of every mail received since the last reset. */
  arrivals: number[];
  reset(): void;
  /** Resolves when `count` mails arrived since the last reset. */
  waitFor(count: number, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  let arrivals: number[] = [];
  let waiter: { count: number; resolve(ok: boolean): void } | null = null;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    // TLS would time the cipher, not the delivery path.
    disabledCommands: ["STARTTLS"],
    onData(stream, _session, callback) {
      stream.on("data", () => {});
      stream.on("end", () => {
        arrivals.push(performance.now());
        if (waiter && arrivals.length >= waiter.count) waiter.resolve(true);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve())
  );
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    get arrivals() {
      return arrivals;
    },
    reset() {
      arrivals = [];
    },
    waitFor(count, timeoutMs) {
      if (arrivals.length >= count) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        waiter = {
          count,
          resolve(ok) {
            clearTimeout(timer);
            waiter = null;
            resolve(ok);
          },
        };
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
