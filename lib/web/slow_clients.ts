// Closes connections that hold the server without sending a request: headers
// that trickle in, a body slower than a minimum rate, a keep-alive connection
// left idle. Deno.serve has no such timeouts (Deno 2.9: none in ServeOptions),
// so the public port is this small TCP relay and Deno.serve listens on
// loopback behind it. It reads the HTTP/1.1 framing of requests only as far
// as it needs to know whose turn it is; the server still parses everything.
import { RequestFraming, type SlowClientLimits } from "./http1_framing.ts";

export interface ClientGuard {
  addr: Deno.NetAddr;
  /** The client behind a relayed connection, by the relay's local port. */
  clientOf(relayPort: number): Deno.NetAddr | undefined;
  /** Stops accepting; connections under way continue. */
  stopAccepting(): void;
  /** Closes every connection left (after the server shut down). */
  close(): Promise<void>;
}

/** How long close() lets relays pass on the server's last answers. */
const CLOSE_GRACE_MS = 2_000;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let sent = 0;
  while (sent < bytes.length) sent += await conn.write(bytes.subarray(sent));
}

/**
 * Listens on `listen` and relays every connection to `upstream` (the
 * Deno.serve behind it), closing the slow and the idle.
 */
export function guardConnections(
  listen: { hostname: string; port: number },
  upstream: Deno.NetAddr,
  limits: SlowClientLimits,
  opts: {
    now?: () => number;
    onClose?: (reason: string) => void;
  } = {},
): ClientGuard {
  const now = opts.now ?? (() => performance.now());
  const listener = Deno.listen(listen);
  const open = new Map<
    Deno.Conn,
    { upstream: Deno.Conn | null; framing: RequestFraming }
  >();
  const clients = new Map<number, Deno.NetAddr>();
  const relays = new Set<Promise<void>>();

  const closeBoth = (client: Deno.Conn) => {
    const entry = open.get(client);
    if (!entry) return;
    open.delete(client);
    for (const conn of [client, entry.upstream]) {
      try {
        conn?.close();
      } catch {
        // Already closed by its other direction.
      }
    }
  };

  // One timer for every connection, a few checks per shortest limit.
  const tickMs = Math.max(
    10,
    Math.min(
      1_000,
      Math.min(limits.headersTimeoutMs, limits.idleTimeoutMs) / 4,
    ),
  );
  const timer = setInterval(() => {
    const t = now();
    for (const [client, { framing }] of open) {
      const reason = framing.overdue(t, limits);
      if (reason) {
        opts.onClose?.(reason);
        closeBoth(client);
      }
    }
  }, tickMs);

  async function relay(client: Deno.Conn): Promise<void> {
    const framing = new RequestFraming(now());
    open.set(client, { upstream: null, framing });
    let server: Deno.Conn;
    try {
      server = await Deno.connect({
        hostname: upstream.hostname,
        port: upstream.port,
      });
    } catch {
      closeBoth(client);
      return;
    }
    const entry = open.get(client);
    if (!entry) {
      server.close(); // timed out while connecting
      return;
    }
    entry.upstream = server;
    const relayPort = (server.localAddr as Deno.NetAddr).port;
    clients.set(relayPort, client.remoteAddr as Deno.NetAddr);
    const up = (async () => {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await client.read(buf);
        if (n === null) break;
        framing.fromClient(buf.subarray(0, n), now());
        await writeAll(server, buf.subarray(0, n));
      }
      // The client is done sending; the answer may still come.
      await server.closeWrite();
    })().catch(() => closeBoth(client));
    const down = (async () => {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await server.read(buf);
        if (n === null) break;
        framing.fromServer(now());
        await writeAll(client, buf.subarray(0, n));
      }
    })().catch(() => {}).finally(() => closeBoth(client));
    await Promise.allSettled([up, down]);
    clients.delete(relayPort);
  }

  const accepting = (async () => {
    for await (const client of listener) {
      const work = relay(client);
      relays.add(work);
      work.finally(() => relays.delete(work));
    }
  })().catch(() => {});

  let stopped = false;
  const stopAccepting = () => {
    if (stopped) return;
    stopped = true;
    listener.close();
  };

  return {
    addr: listener.addr as Deno.NetAddr,
    clientOf: (port) => clients.get(port),
    stopAccepting,
    async close() {
      stopAccepting();
      await accepting;
      // The server has shut down and closed its side of every connection:
      // each relay ends once it has passed on the last answer. Cutting them
      // now could drop an answer still on its way to its client.
      const ended = Promise.allSettled([...relays]);
      let timeout: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        ended,
        new Promise((r) => timeout = setTimeout(r, CLOSE_GRACE_MS)),
      ]);
      clearTimeout(timeout);
      clearInterval(timer);
      for (const client of [...open.keys()]) closeBoth(client);
      await ended;
    },
  };
}
