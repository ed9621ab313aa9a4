// A real smtp-server on loopback that records what it accepts. Port 0 picks a
// free port; passing a port again restarts "the same" server after a stop.
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface Received {
  mailFrom: string | undefined;
  rcptTo: string[];
  user: string | undefined;
  secure: boolean;
  raw: string;
}

export interface TestSmtpServer {
  port: number;
  received: Received[];
  connections(): number;
  close(): Promise<void>;
}

export interface TestSmtpOptions {
  /** 0 picks a free port; a port again restarts a stopped server. */
  port?: number;
  /** Shared across restarts, so counts survive an outage. */
  received?: Received[];
  /** Awaited before a mail is acknowledged: holds a delivery in flight. */
  beforeAccept?: (mail: Received) => Promise<void>;
}

export async function startSmtpServer(
  options: SMTPServerOptions = {},
  { port = 0, received = [], beforeAccept }: TestSmtpOptions = {},
): Promise<TestSmtpServer> {
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
        const from = session.envelope.mailFrom;
        const mail: Received = {
          mailFrom: from ? from.address : undefined,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          raw: Buffer.concat(chunks).toString("utf8"),
        };
        await beforeAccept?.(mail);
        received.push(mail);
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
  return {
    port: bound,
    received,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Mails accepted per recipient address. */
export function countByRecipient(received: Received[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of received) {
    for (const to of mail.rcptTo) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}
