// The 404 and 500 pages: in the layout, with the right status, and never a
// stack trace or error message from inside the app.
import assert from "node:assert/strict";
import { createApp } from "../../lib/web/app.ts";
import { startTestApp } from "../helpers.ts";

Deno.test("errors: an unknown path gets the 404 page in the layout", async () => {
  await using app = await startTestApp();
  const res = await app.browser().get("/no/such/page");
  assert.equal(res.status, 404);
  assert.match(res.body, /<h1>Page not found<\/h1>/);
  assert.match(res.body, /<header class="site-header">/);
  assert.match(res.body, /href="\/static\/styles\.css"/);
});

Deno.test("errors: a failure inside the app gets the 500 page, no stack trace", async () => {
  await using app = await startTestApp({ captureLogs: true });
  // A closed database: every read throws, as a real outage would.
  const kv = await Deno.openKv(":memory:");
  kv.close();
  const broken = createApp({ ...app.deps, kv });
  const res = await broken.fetch(
    new Request(`${app.url}/account`, {
      headers: { cookie: `session=${"a".repeat(32)}` },
    }),
  );
  const body = await res.text();
  assert.equal(res.status, 500);
  assert.match(body, /<h1>Something went wrong<\/h1>/);
  assert.match(body, /<header class="site-header">/);
  assert.doesNotMatch(body, /\bat \S+:\d+:\d+|Error:|closed/i);
});

Deno.test("errors: a static name no file can have is a quiet 404", async () => {
  await using app = await startTestApp();
  // Hono's serveStatic prints an OS error it meets with console.warn.
  const printed: unknown[] = [];
  const consoleWarn = console.warn;
  console.warn = (...args: unknown[]) => printed.push(args);
  try {
    for (
      const path of [
        "/static/%00",
        "/static/a%00b.css",
        `/static/${"a".repeat(300)}`,
      ]
    ) {
      const res = await app.browser().get(path);
      assert.equal(res.status, 404, path);
      assert.match(res.body, /<h1>Page not found<\/h1>/);
    }
    // The stylesheet still comes from the same route.
    assert.equal((await app.browser().get("/static/styles.css")).status, 200);
  } finally {
    console.warn = consoleWarn;
  }
  assert.deepEqual(printed, []);
});
