// Baseline for GET /register: a bare Deno.serve answering a fixed HTML string
// of the same size. args: port bytes
const [port, bytes] = Deno.args.map(Number);
const html = "<!doctype html>" + "x".repeat(Math.max(0, bytes - 15));
Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  () =>
    new Response(html, {
      headers: { "content-type": "text/html; charset=UTF-8" },
    }),
);
