// Our constant security headers are exactly what Hono's secureHeaders sets
// for the same policy, on rendered pages and on the page cache's copies.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { secureHeaders as honoSecureHeaders } from "hono/secure-headers";
import {
  SECURE_HEADERS,
  SECURITY_POLICY,
} from "../../lib/web/secure_headers.ts";
import { startTestApp } from "../helpers.ts";

async function honoHeaders(): Promise<[string, string][]> {
  const app = new Hono();
  app.use(honoSecureHeaders(SECURITY_POLICY));
  app.get("/", (c) => c.text("ok"));
  const res = await app.request("/");
  await res.body?.cancel();
  return [...res.headers].filter(([k]) => k !== "content-type");
}

const lower = (list: readonly (readonly [string, string])[]) =>
  list.map(([k, v]) => [k.toLowerCase(), v]).sort();

Deno.test("secure headers: Hono's set for our policy, strict where it matters", async () => {
  assert.deepEqual(lower(SECURE_HEADERS), lower(await honoHeaders()));
  const get = (name: string) =>
    SECURE_HEADERS.find(([k]) => k.toLowerCase() === name)?.[1];
  assert.equal(get("x-frame-options"), "DENY");
  assert.equal(get("referrer-policy"), "no-referrer");
  assert.equal(get("x-content-type-options"), "nosniff");
  assert.match(get("content-security-policy")!, /script-src 'self'(;|$)/);
  assert.match(get("content-security-policy")!, /frame-ancestors 'none'/);
});

Deno.test("secure headers: on cached pages (every encoding), rendered pages, 304s and errors", async () => {
  await using app = await startTestApp();
  const expected = lower(await honoHeaders());
  const first = await fetch(`${app.url}/register`);
  await first.body?.cancel();
  const etag = first.headers.get("etag")!;
  const cases: [string, Record<string, string>][] = [
    ["/register", {}],
    ["/register", { "accept-encoding": "gzip" }],
    ["/register", { "accept-encoding": "br" }],
    ["/register", { "if-none-match": etag }],
    ["/login", {}],
    ["/no-such-page", {}],
  ];
  for (const [path, headers] of cases) {
    const res = await fetch(`${app.url}${path}`, { headers });
    await res.body?.cancel();
    const got = lower(
      [...res.headers].filter(([k]) => expected.some(([e]) => e === k)),
    );
    assert.deepEqual(got, expected, `${path} ${JSON.stringify(headers)}`);
    assert.match(res.headers.get("x-request-id") ?? "", /^[\w-]+$/);
  }
});

Deno.test("secure headers: each cached copy is a fresh response with its own request id", async () => {
  await using app = await startTestApp();
  const ids = new Set<string>();
  const bodies = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${app.url}/register`);
    bodies.add(await res.text());
    ids.add(res.headers.get("x-request-id")!);
  }
  assert.equal(ids.size, 3);
  assert.equal(bodies.size, 1);
  const echoed = await fetch(`${app.url}/register`, {
    headers: { "x-request-id": "ticket-7" },
  });
  await echoed.body?.cancel();
  assert.equal(echoed.headers.get("x-request-id"), "ticket-7");
});

Deno.test("secure headers: Permissions-Policy turns off every powerful feature", () => {
  const policy = SECURE_HEADERS.find(([k]) =>
    k.toLowerCase() === "permissions-policy"
  )?.[1];
  assert.ok(policy, "no Permissions-Policy header");
  for (const feature of ["camera", "microphone", "geolocation", "payment"]) {
    assert.match(policy, new RegExp(`(^|, )${feature}=\\(\\)`), feature);
  }
});
