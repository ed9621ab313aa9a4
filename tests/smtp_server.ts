// A real SMTP server (npm smtp-server) on loopback for tests, recording every
// message it accepts, parsed with mailparser. Port 0 picks a free port;
// passing a port again restarts "the same" server after a stop.
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface ReceivedMail {
  mailFrom: string | undefined;
  rcptTo: string[];
  user: string | undefined;
  secure: boolean;
  raw: string;
  subject: string;
  from: string;
  to: string;
  text: string;
  html: string;
}

export type Received = ReceivedMail;

export interface TestSmtpOptions {
  /** 0 picks a free port; a port again restarts a stopped server. */
  port?: number;
  /** Shared across restarts, so counts survive an outage. */
  received?: ReceivedMail[];
  /** Awaited before a mail is acknowledged: holds a delivery in flight. */
  beforeAccept?: (mail: ReceivedMail) => Promise<void>;
}

export interface TestSmtpServer extends AsyncDisposable {
  port: number;
  received: ReceivedMail[];
  connections(): number;
  /** Resolves once `count` mails have arrived; rejects after timeoutMs. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpServer(
  options: SMTPServerOptions = {},
  { port = 0, received = [], beforeAccept }: TestSmtpOptions = {},
): Promise<TestSmtpServer> {
  const waiters = new Set<() => void>();
  let connections = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    ...options,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks);
        const parsed = await simpleParser(raw);
        const from = session.envelope.mailFrom;
        const addressText = (a: typeof parsed.to) =>
          a === undefined
            ? ""
            : Array.isArray(a)
            ? a.map((x) => x.text).join(", ")
            : a.text;
        const mail: ReceivedMail = {
          mailFrom: from ? from.address : undefined,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          raw: raw.toString("utf8"),
          subject: parsed.subject ?? "",
          from: addressText(parsed.from),
          to: addressText(parsed.to),
          text: parsed.text ?? "",
          html: typeof parsed.html === "string" ? parsed.html : "",
        };
        await beforeAccept?.(mail);
        received.push(mail);
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  // A client killed mid-session resets its socket; smtp-server reports that
  // as an "error" event, which unheard would crash the test process.
  server.on("error", () => {});
  await new Promise<void>((resolve) =>
    server.listen(port, "127.0.0.1", () => resolve())
  );
  const bound = (server.server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    port: bound,
    received,
    connections: () => connections,
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(received.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `${received.length} of ${count} mails after ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A port nothing listens on: bound, read, released. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Mails accepted per recipient address. */
export function countByRecipient(
  received: ReceivedMail[],
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of received) {
    for (const to of mail.rcptTo) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}
