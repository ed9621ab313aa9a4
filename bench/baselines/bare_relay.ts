// The slow-client relay's own cost: the bare baseline (a Deno.serve answering
// a fixed HTML string of the same size) behind lib/web/slow_clients.ts with
// the default limits, as a self-hosted app serves. args: port bytes
import { guardConnections } from "../../lib/web/slow_clients.ts";

const [port, bytes] = Deno.args.map(Number);
const html = "<!doctype html>" + "x".repeat(Math.max(0, bytes - 15));
const behind = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () =>
    new Response(html, {
      headers: { "content-type": "text/html; charset=UTF-8" },
    }),
);
guardConnections({ hostname: "127.0.0.1", port }, behind.addr, {
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  minBodyBytesPerSecond: 240,
  bodyGraceMs: 5_000,
});
