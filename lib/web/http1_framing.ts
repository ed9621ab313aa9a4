// Where a relayed HTTP/1.1 connection stands, fed the client's bytes: in a
// request head, in its body (Content-Length or chunked), waiting for the
// server, or idle between requests. Only as much of the framing as
// lib/web/slow_clients.ts needs to know whose turn it is and whether the
// client is too slow; the server still parses everything.

export interface SlowClientLimits {
  /** A request's headers must be complete this long after its first byte. */
  headersTimeoutMs: number;
  /** A keep-alive connection with nothing under way is closed after this. */
  idleTimeoutMs: number;
  /** A body must average at least this many bytes a second... */
  minBodyBytesPerSecond: number;
  /** ...once it has been arriving for this long. */
  bodyGraceMs: number;
}

/** Past this a request head is the server's to refuse (431), not ours. */
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4 * 1024;
const HEAD_END = "\r\n\r\n";

type Chunked =
  | { at: "size"; line: string }
  | { at: "data"; left: number }
  | { at: "data-end"; line: string }
  | { at: "trailers"; line: string };

type Turn =
  /** Between requests: waiting for the client's next one. */
  | { is: "idle" }
  | { is: "head"; since: number; text: string }
  | {
    is: "body";
    since: number;
    received: number;
    /** Bytes left of a Content-Length body; null for a chunked one. */
    left: number | null;
    chunked: Chunked;
  }
  /** The request is in: the server's turn, however long it takes. */
  | { is: "server" }
  /** Not HTTP/1.1 as we know it (h2c): only the idle limit applies. */
  | { is: "opaque" };

/** Where the relay stands on one connection, fed the client's bytes. */
export class RequestFraming {
  turn: Turn;
  lastActivity: number;

  constructor(now: number) {
    // The first request's clock starts when the connection opens: a client
    // that connects and sends nothing is as slow as one that trickles.
    this.turn = { is: "head", since: now, text: "" };
    this.lastActivity = now;
  }

  /** The server sent something: a request it answers is no longer ours. */
  fromServer(now: number): void {
    this.lastActivity = now;
    if (this.turn.is === "server") this.turn = { is: "idle" };
  }

  fromClient(bytes: Uint8Array, now: number): void {
    this.lastActivity = now;
    // latin1: one char per byte, so lengths count bytes.
    let rest = new TextDecoder("latin1").decode(bytes);
    while (rest.length) rest = this.step(rest, now);
  }

  /** Consumes some of `data` (at least one char); returns what is left. */
  private step(data: string, now: number): string {
    const t = this.turn;
    switch (t.is) {
      case "opaque":
        return "";
      case "idle":
      case "server":
        // A new request (pipelined, when the server is still answering).
        this.turn = { is: "head", since: now, text: "" };
        return data;
      case "head": {
        const scanFrom = Math.max(0, t.text.length - 3);
        t.text += data;
        const end = t.text.indexOf(HEAD_END, scanFrom);
        if (end < 0) {
          if (t.text.length > MAX_HEAD_BYTES) this.turn = { is: "opaque" };
          return "";
        }
        const rest = t.text.slice(end + HEAD_END.length);
        this.turn = bodyOf(t.text.slice(0, end), now);
        return rest;
      }
      case "body":
        return t.left !== null
          ? this.lengthBody(t, data)
          : this.chunkedBody(t, data);
    }
  }

  private lengthBody(t: Extract<Turn, { is: "body" }>, data: string) {
    const take = Math.min(t.left!, data.length);
    t.left! -= take;
    t.received += take;
    if (t.left === 0) this.turn = { is: "server" };
    return data.slice(take);
  }

  private chunkedBody(t: Extract<Turn, { is: "body" }>, data: string) {
    const c = t.chunked;
    if (c.at === "data") {
      const take = Math.min(c.left, data.length);
      c.left -= take;
      t.received += take;
      if (c.left === 0) t.chunked = { at: "data-end", line: "" };
      return data.slice(take);
    }
    const nl = data.indexOf("\n");
    const part = nl < 0 ? data : data.slice(0, nl + 1);
    t.received += part.length;
    c.line += part;
    if (c.line.length > MAX_LINE_BYTES) {
      this.turn = { is: "opaque" };
      return "";
    }
    if (nl < 0) return "";
    const line = c.line.trim();
    if (c.at === "data-end") {
      t.chunked = { at: "size", line: "" };
    } else if (c.at === "size") {
      const size = parseInt(line.split(";")[0], 16);
      if (!Number.isFinite(size)) this.turn = { is: "opaque" };
      else if (size === 0) t.chunked = { at: "trailers", line: "" };
      else t.chunked = { at: "data", left: size };
    } else if (line === "") {
      this.turn = { is: "server" };
    } else {
      t.chunked = { at: "trailers", line: "" };
    }
    return data.slice(part.length);
  }

  /** Why the connection should be closed now, or null. */
  overdue(now: number, limits: SlowClientLimits): string | null {
    const t = this.turn;
    if (t.is === "head" && now - t.since > limits.headersTimeoutMs) {
      return "headers too slow";
    }
    if (t.is === "body") {
      const elapsed = now - t.since;
      if (
        elapsed > limits.bodyGraceMs &&
        t.received < (limits.minBodyBytesPerSecond * elapsed) / 1000
      ) return "body too slow";
    }
    if (
      (t.is === "idle" || t.is === "opaque") &&
      now - this.lastActivity > limits.idleTimeoutMs
    ) return "idle";
    return null;
  }
}

/** What follows a request head: its body, or the server's turn. */
function bodyOf(head: string, now: number): Turn {
  const lines = head.split(/\r?\n/);
  if (lines[0].startsWith("PRI * HTTP/2")) return { is: "opaque" };
  let length = 0;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === "transfer-encoding") chunked = value.includes("chunked");
    if (name === "content-length") length = Number(value) || 0;
  }
  if (chunked) {
    return {
      is: "body",
      since: now,
      received: 0,
      left: null,
      chunked: { at: "size", line: "" },
    };
  }
  return length > 0
    ? {
      is: "body",
      since: now,
      received: 0,
      left: length,
      chunked: { at: "size", line: "" },
    }
    : { is: "server" };
}
