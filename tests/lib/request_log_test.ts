// One log line per request, with a request id, the method, a path that never
// holds a token, the status and the duration; readable text by default, JSON
// for machines.
import assert from "node:assert/strict";
import { redactPath } from "../../lib/web/request_log.ts";
import { startTestApp } from "../helpers.ts";

// Shaped like an activation token: the log must never show it.
const TOKEN =
  "eyJzdWIiOiIwMTkyZjAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDAifQ.c2VjcmV0LXNpZ25hdHVyZQ";

const cases: {
  method: string;
  path: string;
  status: number;
  logged: string;
  origin?: string;
}[] = [
  { method: "GET", path: "/", status: 303, logged: "/" },
  { method: "GET", path: "/register", status: 200, logged: "/register" },
  { method: "POST", path: "/register", status: 422, logged: "/register" },
  {
    method: "GET",
    path: `/activate/${TOKEN}`,
    status: 400,
    logged: "/activate/:token",
  },
  {
    method: "POST",
    path: `/activate/${TOKEN}`,
    status: 400,
    logged: "/activate/:token",
  },
  // Refused by the CSRF guard before the handler runs: still the pattern.
  {
    method: "POST",
    path: `/activate/${TOKEN}`,
    status: 403,
    logged: "/activate/:token",
    origin: "https://evil.example",
  },
  {
    method: "GET",
    path: `/activate/${TOKEN}/more`,
    status: 404,
    logged: "/activate/*",
  },
  { method: "GET", path: `/${TOKEN}`, status: 404, logged: "/…" },
  { method: "GET", path: `/x/${TOKEN}`, status: 404, logged: "/x/…" },
  { method: "GET", path: "/favicon.ico", status: 404, logged: "/favicon.ico" },
  {
    method: "GET",
    path: `/activate/${TOKEN}?t=${TOKEN}`,
    status: 400,
    logged: "/activate/:token",
  },
  {
    method: "GET",
    path: "/static/styles.css",
    status: 200,
    logged: "/static/*",
  },
  { method: "GET", path: "/healthz", status: 200, logged: "/healthz" },
  { method: "GET", path: "/account", status: 303, logged: "/account" },
  { method: "GET", path: "/login", status: 200, logged: "/login" },
];

Deno.test("request log: every route logs its pattern, never a token (JSON)", async () => {
  await using app = await startTestApp({
    captureLogs: true,
    logFormat: "json",
  });
  for (const c of cases) {
    const browser = app.browser();
    const res = await browser.request(c.method, c.path, {
      form: c.method === "POST" ? {} : undefined,
      headers: c.origin ? { origin: c.origin } : undefined,
    });
    assert.equal(res.status, c.status, `${c.method} ${c.path}`);
    const id = res.headers.get("x-request-id");
    assert.match(id ?? "", /^[0-9a-f-]{36}$/, `${c.method} ${c.path}`);
    const lines = app.logLines.map((l) => JSON.parse(l)).filter((l) =>
      l.msg === "request" && l.requestId === id
    );
    assert.equal(lines.length, 1, `one line for ${c.method} ${c.path}`);
    const [line] = lines;
    assert.equal(line.level, "info");
    assert.equal(line.method, c.method);
    assert.equal(line.path, c.logged, `${c.method} ${c.path}`);
    assert.equal(line.status, c.status);
    assert.equal(typeof line.ms, "number");
    assert.ok(!Number.isNaN(Date.parse(line.time)));
  }
  const all = app.logLines.join("\n");
  assert.ok(!all.includes(TOKEN.slice(0, 20)), "a token reached the log");
});

Deno.test("request log: the readable form is one line with the same fields", async () => {
  await using app = await startTestApp({ captureLogs: true });
  const res = await app.browser().get(`/activate/${TOKEN}`, {
    "x-request-id": "support-ticket-42",
  });
  assert.equal(res.status, 400);
  // A well-formed id from a proxy is kept, so both logs share it.
  assert.equal(res.headers.get("x-request-id"), "support-ticket-42");
  const line = app.logLines.find((l) => l.includes(" request "));
  assert.match(
    line ?? "",
    /^\S+Z INFO request requestId=support-ticket-42 method=GET path=\/activate\/:token status=400 ms=\d+$/,
  );
  assert.ok(!app.logLines.join("\n").includes(TOKEN.slice(0, 20)));
});

Deno.test("request log: a malformed X-Request-Id is replaced, not logged", async () => {
  await using app = await startTestApp({
    captureLogs: true,
    logFormat: "json",
  });
  const res = await app.browser().get("/register", {
    "x-request-id": "bad id\twith spaces",
  });
  const id = res.headers.get("x-request-id")!;
  assert.match(id, /^[0-9a-f-]{36}$/);
  const line = JSON.parse(app.logLines.find((l) => l.includes('"request"'))!);
  assert.equal(line.requestId, id);
});

Deno.test("redactPath: keeps a short plain first segment only", () => {
  assert.equal(redactPath("/"), "/");
  assert.equal(redactPath("/favicon.ico"), "/favicon.ico");
  assert.equal(redactPath("/a/b/c"), "/a/…");
  assert.equal(redactPath(`/${TOKEN}`), "/…");
  assert.equal(redactPath(`/${TOKEN}/x`), "/…");
  assert.equal(redactPath("/%2e%2e/etc"), "/…");
});
