// A real SMTP server on a free loopback port (smtp-server, no TLS, no auth
// required) recording what it accepts, and helpers to read what it got.
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

/** A real SMTP server on a free loopback port, recording what it accepts. */
export async function startSmtpServer(options: SMTPServerOptions = {}) {
  const received: Received[] = [];
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
      stream.on("end", () => {
        const from = session.envelope.mailFrom;
        received.push({
          mailFrom: from ? from.address : undefined,
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          raw: Buffer.concat(chunks).toString("utf8"),
        });
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
    received,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function header(raw: string, name: string): string | undefined {
  const head = raw.split("\r\n\r\n")[0];
  return new RegExp(`^${name}: (.*)$`, "mi").exec(head)?.[1];
}

/** The decoded bodies of a message, by content type. */
export function bodies(raw: string): Record<string, string> {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  const chunks = boundary ? raw.split(`--${boundary}`).slice(1, -1) : [raw];
  const out: Record<string, string> = {};
  for (const chunk of chunks) {
    const [head, ...rest] = chunk.replace(/^\r\n/, "").split("\r\n\r\n");
    const body = rest.join("\r\n\r\n");
    const type = /content-type:\s*([^;\s]+)/i.exec(head)?.[1] ?? "text/plain";
    const encoding = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1];
    out[type.toLowerCase()] = decode(body, encoding?.toLowerCase());
  }
  return out;
}

export function decode(body: string, encoding: string | undefined): string {
  if (encoding === "base64") return Buffer.from(body, "base64").toString();
  if (encoding !== "quoted-printable") return body;
  const bytes = body.replace(/=\r\n/g, "").replace(
    /=([0-9A-F]{2})/gi,
    (_, hex) => String.fromCharCode(parseInt(hex, 16)),
  );
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** A port nothing listens on: bound, read, released. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
