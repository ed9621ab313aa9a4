// Slow clients over real TCP: headers or a body that trickle in, and idle
// keep-alive connections, are closed; a client at normal speed is not.
// Short limits here; the defaults are 30 s, 60 s and 240 bytes a second.
import assert from "node:assert/strict";
import { startTestApp } from "../helpers.ts";

const LIMITS = {
  SLOW_CLIENT_RELAY: "true",
  HEADERS_TIMEOUT: "400ms",
  IDLE_TIMEOUT: "400ms",
  MIN_BODY_RATE: "2000",
};
/** Far beyond every limit above: a connection still open then was kept. */
const GIVE_UP_MS = 6_000;

const encoder = new TextEncoder();

async function connect(url: string): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(url);
  return await Deno.connect({ hostname, port: Number(port) });
}

/**
 * Reads until the server closes the connection (true) or GIVE_UP_MS passes
 * (false). While waiting, `trickle` (if any) sends one byte every 100 ms.
 */
async function closedByServer(
  conn: Deno.TcpConn,
  trickle?: string,
): Promise<{ closed: boolean; received: string }> {
  let received = "";
  let done = false;
  const reading = (async () => {
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return true;
        received += new TextDecoder().decode(buf.subarray(0, n));
      }
    } catch {
      return true; // reset by the server
    }
  })();
  const trickling = (async () => {
    for (let i = 0; trickle && !done; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        await conn.write(encoder.encode(trickle[i % trickle.length]));
      } catch {
        return;
      }
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    reading,
    new Promise<false>((r) => timer = setTimeout(() => r(false), GIVE_UP_MS)),
  ]);
  done = true;
  clearTimeout(timer);
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  await reading;
  await trickling;
  return { closed, received };
}

Deno.test("slow clients: headers that trickle in are cut off", async () => {
  await using app = await startTestApp({ env: LIMITS });
  const conn = await connect(app.url);
  await conn.write(encoder.encode("GET /register HTTP/1.1\r\nHost: x\r\n"));
  const res = await closedByServer(conn, "X-Slow: a\r\n");
  assert.equal(res.closed, true);
  assert.equal(res.received, "");
});

Deno.test("slow clients: a connection that sends nothing is closed", async () => {
  await using app = await startTestApp({ env: LIMITS });
  const res = await closedByServer(await connect(app.url));
  assert.equal(res.closed, true);
});

Deno.test("slow clients: a body slower than MIN_BODY_RATE is cut off", async () => {
  await using app = await startTestApp({ env: LIMITS });
  const conn = await connect(app.url);
  await conn.write(encoder.encode(
    "POST /login HTTP/1.1\r\nHost: x\r\n" +
      "Content-Type: application/x-www-form-urlencoded\r\n" +
      "Content-Length: 5000\r\n\r\nemail=",
  ));
  const res = await closedByServer(conn, "a");
  assert.equal(res.closed, true);
});

Deno.test("slow clients: a chunked body that trickles is cut off", async () => {
  await using app = await startTestApp({ env: LIMITS });
  const conn = await connect(app.url);
  await conn.write(encoder.encode(
    "POST /login HTTP/1.1\r\nHost: x\r\n" +
      "Content-Type: application/x-www-form-urlencoded\r\n" +
      "Transfer-Encoding: chunked\r\n\r\n",
  ));
  const res = await closedByServer(conn, "1\r\na\r\n");
  assert.equal(res.closed, true);
});

Deno.test("slow clients: an idle keep-alive connection is closed after IDLE_TIMEOUT", async () => {
  await using app = await startTestApp({ env: LIMITS });
  const conn = await connect(app.url);
  await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const res = await closedByServer(conn);
  assert.equal(res.closed, true);
  assert.match(res.received, /^HTTP\/1\.1 200/);
});

Deno.test("slow clients: requests at normal speed are answered, on one keep-alive connection", async () => {
  await using app = await startTestApp({ env: LIMITS });
  const conn = await connect(app.url);
  const body = "email=ada%40example.com&password=not-the-right-one";
  const request = `POST /login HTTP/1.1\r\nHost: ${new URL(app.url).host}\r\n` +
    `Origin: ${app.url}\r\n` +
    "Content-Type: application/x-www-form-urlencoded\r\n" +
    `Content-Length: ${body.length}\r\n\r\n${body}`;
  const answers: string[] = [];
  const buf = new Uint8Array(65536);
  for (let i = 0; i < 3; i++) {
    await conn.write(encoder.encode(request));
    let text = "";
    while (!text.includes("</html>")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    answers.push(text.slice(0, 12));
    await new Promise((r) => setTimeout(r, 100));
  }
  conn.close();
  assert.deepEqual(answers, Array(3).fill("HTTP/1.1 400"));
});

Deno.test("slow clients: the app still sees each client's own address through the relay", async () => {
  await using app = await startTestApp({ env: { ...LIMITS, HOSTNAME: "::1" } });
  const res = await fetch(new URL("/activate/resend", app.url), {
    method: "POST",
    headers: { origin: app.url },
    body: new URLSearchParams({ email: "ada@example.com" }),
    redirect: "manual",
  });
  await res.body?.cancel();
  assert.equal(res.status, 303);
  const subjects = [];
  for await (const { key } of app.kv.list({ prefix: ["rate_limits"] })) {
    if (key[1] === "resend:ip") subjects.push(key[2]);
  }
  // ::1 counts as its /64; the relay itself is 127.0.0.1.
  assert.deepEqual(subjects, ["0:0:0:0::/64"]);
});
