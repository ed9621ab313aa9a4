// The largest inputs a client can send, to every endpoint: no request makes
// a KV key too large (Deno KV refuses keys over 2 KiB with an exception, a
// 500), and no forged client address steps around the per-client limits.
import assert from "node:assert/strict";
import { GOOD_PASSWORD, startTestApp } from "../helpers.ts";

const LONG = "a".repeat(8_000);
/** Long but well-formed: a valid address far beyond any real mailbox. */
const LONG_EMAIL = `${"x".repeat(3_000)}+${"t".repeat(3_000)}@${
  "d".repeat(60)
}.example`;

const PAGES: [string, string][] = [
  ["GET", "/"],
  ["GET", "/register"],
  ["POST", "/register"],
  ["GET", "/login"],
  ["POST", "/login"],
  ["POST", "/logout"],
  ["GET", "/account"],
  ["POST", "/account/password"],
  ["GET", "/activate/resend"],
  ["POST", "/activate/resend"],
  ["GET", `/activate/${LONG}`],
  ["POST", `/activate/${LONG}`],
  ["GET", "/password/forgot"],
  ["POST", "/password/forgot"],
  ["GET", `/password/reset/${LONG}`],
  ["POST", `/password/reset/${LONG}`],
  ["POST", "/lang"],
  ["GET", "/healthz"],
  ["GET", "/static/style.css"],
  ["GET", `/${LONG}`],
];
const API: string[] = [
  "/api/register",
  "/api/activate",
  "/api/activation/resend",
  "/api/login",
  "/api/logout",
  "/api/password/forgot",
  "/api/password/reset",
];

/** Valid forms reach the rate limits, whose keys hold the client's address. */
const VALID = {
  first_name: "Ada",
  email: `${"x".repeat(60)}+${"t".repeat(3)}@${"d".repeat(180)}.example`,
  password: GOOD_PASSWORD,
  password_confirm: GOOD_PASSWORD,
  current_password: GOOD_PASSWORD,
  lang: "en",
};

const FORM = {
  first_name: LONG,
  email: LONG_EMAIL,
  password: LONG,
  password_confirm: LONG,
  current_password: LONG,
  lang: LONG,
  token: LONG,
};

/** Headers a client controls, each at a size a proxy would still pass. */
const HEADERS = {
  "x-forwarded-for": `${LONG}, ${"9".repeat(3_000)}`,
  "x-request-id": LONG,
  "accept-language": LONG,
  cookie: `session=${LONG}; registered=${LONG}; lang=${LONG}`,
};

for (const hops of ["0", "1", "2"]) {
  Deno.test(`large inputs: no endpoint answers 5xx to the largest inputs (TRUSTED_PROXY_HOPS=${hops})`, async () => {
    await using app = await startTestApp({
      // Through the relay: its head parsing meets the largest heads too.
      env: { TRUSTED_PROXY_HOPS: hops, SLOW_CLIENT_RELAY: "true" },
    });
    const browser = app.browser();
    for (const [method, path] of PAGES) {
      for (const form of [FORM, VALID, { email: LONG_EMAIL }]) {
        const res = await browser.request(method, path, {
          form: method === "POST" ? form : undefined,
          headers: HEADERS,
        });
        assert.ok(res.status < 500, `${method} ${path}: ${res.status}`);
      }
    }
    for (const path of API) {
      for (const json of [FORM, VALID, { email: LONG_EMAIL }]) {
        const res = await browser.request("POST", path, {
          json,
          headers: HEADERS,
        });
        assert.ok(res.status < 500, `POST ${path}: ${res.status}`);
      }
    }
    await app.idle();
  });
}

Deno.test("large inputs: a forwarded value that is not an IP address counts as the socket's address", async () => {
  await using app = await startTestApp({
    env: { TRUSTED_PROXY_HOPS: "1", RATE_LIMIT_IP: "2/15m" },
  });
  const browser = app.browser();
  const statuses: number[] = [];
  // A different made-up "address" each time: without the check each one
  // got a budget of its own.
  const forgeries = ["a", "b", "999.1.1.1", "1.2.3.4.5", "::g", "x".repeat(50)];
  for (const [i, forged] of forgeries.entries()) {
    const res = await browser.request("POST", "/activate/resend", {
      form: { email: `person${i}@example.com` },
      headers: { "x-forwarded-for": forged },
    });
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [303, 303, 429, 429, 429, 429]);
  // A real address is still its own client.
  const real = await browser.request("POST", "/activate/resend", {
    form: { email: "real@example.com" },
    headers: { "x-forwarded-for": "203.0.113.7" },
  });
  assert.equal(real.status, 303);
});
