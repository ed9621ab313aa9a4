// A property-based fuzz of every endpoint that takes input. ENDPOINTS is the
// one table to extend: pages send forms, the JSON API sends "json".
// Properties: no 5xx, no stack trace in a body, no error logged, and after
// the run every KV record parses with its schema and the index agrees.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as z from "zod/mini";
import {
  ChangePasswordSchema,
  LoginSchema,
  RegisterSchema,
  ResetPasswordApiSchema,
  ResetPasswordSchema,
} from "../../lib/accounts/schemas.ts";
import { GOOD_PASSWORD, startTestApp } from "../helpers.ts";
import { checkStore } from "../faults/store_check.ts";

export interface Endpoint {
  name: string;
  method: string;
  /** The path (a token in it is part of the input). */
  path: fc.Arbitrary<string>;
  /** Fields it reads; the fuzzer also sends fields it does not know. */
  fields: string[];
  /** How a well-behaved client sends the body. */
  body: "form" | "json" | "none";
  /** True when this input costs an Argon2id hash; those are rationed. */
  expensive?: (fields: Record<string, string>) => boolean;
  /** A valid input; the fuzzer also sends it with one field replaced. */
  example?: Record<string, string>;
}

function valid(schema: z.core.$ZodType, fields: unknown): boolean {
  return z.safeParse(schema, fields).success;
}

const token = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,120}\.[A-Za-z0-9_-]{1,60}$/),
  fc.nat(5000).map((n) => "A".repeat(n)),
).map(encodeURIComponent);

export const ENDPOINTS: Endpoint[] = [
  {
    name: "POST /register",
    method: "POST",
    path: fc.constant("/register"),
    fields: ["first_name", "email", "password", "password_confirm"],
    body: "form",
    expensive: (f) => valid(RegisterSchema, f),
    example: {
      first_name: "Ada",
      email: "ada@example.com",
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
    },
  },
  {
    name: "POST /login",
    method: "POST",
    path: fc.constant("/login"),
    fields: ["email", "password"],
    body: "form",
    expensive: (f) => valid(LoginSchema, f),
    example: { email: "ada@example.com", password: GOOD_PASSWORD },
  },
  {
    name: "POST /logout",
    method: "POST",
    path: fc.constant("/logout"),
    fields: [],
    body: "none",
  },
  {
    name: "GET /activate/:token",
    method: "GET",
    path: token.map((t) => `/activate/${t}`),
    fields: [],
    body: "none",
  },
  {
    name: "POST /activate/:token",
    method: "POST",
    path: token.map((t) => `/activate/${t}`),
    // The one-button form sends nothing; a contested address's form sends
    // a new password.
    fields: ["password", "password_confirm"],
    body: "form",
    example: { password: GOOD_PASSWORD, password_confirm: GOOD_PASSWORD },
  },
  {
    name: "POST /activate/resend",
    method: "POST",
    path: fc.constant("/activate/resend"),
    fields: ["email"],
    body: "form",
    example: { email: "ada@example.com" },
  },
  {
    name: "POST /password/forgot",
    method: "POST",
    path: fc.constant("/password/forgot"),
    fields: ["email"],
    body: "form",
    example: { email: "ada@example.com" },
  },
  {
    name: "POST /password/reset/:token",
    method: "POST",
    path: token.map((t) => `/password/reset/${t}`),
    fields: ["password", "password_confirm"],
    body: "form",
    expensive: (f) => valid(ResetPasswordSchema, f),
    example: { password: GOOD_PASSWORD, password_confirm: GOOD_PASSWORD },
  },
  {
    // One entry for the lot (a thousand cases each is seconds apiece):
    // the fuzzer sends every encoding to every path anyway.
    name: "account deletion and export, pages and API",
    method: "*",
    path: fc.oneof(
      token.map((t) => `/account/delete/${t}`),
      fc.constantFrom(
        "/account/delete",
        "/account/export",
        "/api/account/delete",
        "/api/account/delete/confirm",
        "/api/account/export",
      ),
    ),
    fields: ["token", "current_password"],
    body: "form",
  },
  {
    name: "POST /account/password",
    method: "POST",
    path: fc.constant("/account/password"),
    fields: ["current_password", "password", "password_confirm"],
    body: "form",
    expensive: (f) => valid(ChangePasswordSchema, f),
  },
  {
    name: "POST /account/email",
    method: "POST",
    path: fc.constant("/account/email"),
    fields: ["email", "current_password"],
    body: "form",
  },
  {
    name: "POST /account/email/confirm/:token, /undo/:token",
    method: "POST",
    path: fc.tuple(fc.constantFrom("confirm", "undo"), token).map(([k, t]) =>
      `/account/email/${k}/${t}`
    ),
    fields: ["current_password", "password", "password_confirm"],
    body: "form",
    expensive: (f) => valid(ResetPasswordSchema, f),
  },
  {
    name: "POST /lang",
    method: "POST",
    path: fc.constant("/lang"),
    fields: ["lang", "next"],
    body: "form",
    example: { lang: "ru", next: "/register" },
  },
  {
    name: "POST /api/register",
    method: "POST",
    path: fc.constant("/api/register"),
    fields: ["first_name", "email", "password", "password_confirm"],
    body: "json",
    expensive: (f) => valid(RegisterSchema, f),
    example: {
      first_name: "Ada",
      email: "api@example.com",
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
    },
  },
  {
    name: "POST /api/login",
    method: "POST",
    path: fc.constant("/api/login"),
    fields: ["email", "password"],
    body: "json",
    expensive: (f) => valid(LoginSchema, f),
    example: { email: "api@example.com", password: GOOD_PASSWORD },
  },
  {
    name: "POST /api/activate",
    method: "POST",
    path: fc.constant("/api/activate"),
    fields: ["token", "password", "password_confirm"],
    body: "json",
  },
  {
    name: "POST /api/activation/resend",
    method: "POST",
    path: fc.constant("/api/activation/resend"),
    fields: ["email"],
    body: "json",
    example: { email: "api@example.com" },
  },
  {
    name: "POST /api/password/forgot",
    method: "POST",
    path: fc.constant("/api/password/forgot"),
    fields: ["email"],
    body: "json",
    example: { email: "api@example.com" },
  },
  {
    name: "POST /api/password/reset",
    method: "POST",
    path: fc.constant("/api/password/reset"),
    fields: ["token", "password", "password_confirm"],
    body: "json",
    expensive: (f) => valid(ResetPasswordApiSchema, f),
  },
  {
    name: "POST /api/email/change, /api/email/confirm",
    method: "POST",
    path: fc.constantFrom("/api/email/change", "/api/email/confirm"),
    fields: ["email", "current_password", "token"],
    body: "json",
  },
  {
    name: "POST /api/logout, GET /api/me",
    method: "*",
    path: fc.constantFrom("/api/logout", "/api/me"),
    fields: [],
    body: "json",
  },
  {
    name: "GET pages with a query",
    method: "GET",
    path: fc.tuple(
      fc.constantFrom(
        "/",
        "/register",
        "/register/done",
        "/login",
        "/account",
        "/account/email",
        "/account/email/sent",
        "/activate/resend",
        "/password/forgot",
        "/dev/mail",
        "/healthz",
      ),
      fc.string({ maxLength: 300 }),
    ).map(([p, q]) => `${p}?${encodeURIComponent(q)}=${encodeURIComponent(q)}`),
    fields: [],
    body: "none",
  },
  {
    name: "any method, any path",
    method: "*",
    path: fc.string({ unit: "binary", maxLength: 200 }).map((p) =>
      "/" + encodeURI(p).replaceAll("?", "%3F").replaceAll("#", "%23")
    ),
    fields: [],
    body: "none",
  },
];

const control = fc.string({
  unit: fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 32 || c >= 0x7f)
    .map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

const value = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 2, arbitrary: control },
  { weight: 2, arbitrary: fc.emailAddress() },
  { weight: 1, arbitrary: fc.constant(GOOD_PASSWORD) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(80_000), fc.constantFrom("a", "é", "😀", "\0"))
      .map(([n, c]) => c.repeat(n)),
  },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "null", "[]", "{}") },
);

/** The example with one field replaced, dropped or given twice. */
function nearExample(example: Record<string, string>) {
  const names = Object.keys(example);
  return fc.tuple(
    fc.constantFrom(...names),
    fc.constantFrom("replace", "drop", "repeat", "keep"),
    value,
  ).map(([field, how, v]) => {
    const pairs = Object.entries(example);
    if (how === "keep") return pairs;
    if (how === "repeat") return [...pairs, [field, v] as [string, string]];
    const rest = pairs.filter(([k]) => k !== field);
    return how === "drop" ? rest : [...rest, [field, v] as [string, string]];
  });
}

type Encoding =
  | "form"
  | "multipart"
  | "json"
  | "bad-json"
  | "bad-multipart"
  | "text"
  | "none"
  | "odd";

interface Case {
  method: string;
  path: string;
  pairs: [string, string][];
  encoding: Encoding;
  cookie: string | null;
  language: string | null;
}

function caseFor(endpoint: Endpoint): fc.Arbitrary<Case> {
  const name = endpoint.fields.length
    ? fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...endpoint.fields) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    )
    : fc.string({ maxLength: 20 });
  // Mostly every field once, as a browser sends them; sometimes a random mix.
  const pairs = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.tuple(...endpoint.fields.map(() => value)).map((vs) =>
        vs.map((v, i) => [endpoint.fields[i], v] as [string, string])
      ),
    },
    { weight: 2, arbitrary: fc.array(fc.tuple(name, value), { maxLength: 8 }) },
    ...(endpoint.example
      ? [{ weight: 2, arbitrary: nearExample(endpoint.example) }]
      : []),
  );
  const preferred: Encoding = endpoint.body === "json"
    ? "json"
    : endpoint.body === "form"
    ? "form"
    : "none";
  return fc.record({
    method: endpoint.method === "*"
      ? fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
      : fc.constant(endpoint.method),
    path: endpoint.path,
    pairs,
    encoding: fc.oneof(
      { weight: 6, arbitrary: fc.constant(preferred) },
      {
        weight: 3,
        arbitrary: fc.constantFrom<Encoding>(
          "form",
          "multipart",
          "json",
          "bad-json",
          "bad-multipart",
          "text",
          "none",
          "odd",
        ),
      },
    ),
    cookie: fc.option(fc.string({ maxLength: 120 })),
    language: fc.option(fc.string({ maxLength: 40 })),
  });
}

/** The fields the app will see (the last of a repeated name wins). */
function lastWins(pairs: [string, string][]): Record<string, string> {
  return Object.fromEntries(pairs);
}

function encode(c: Case): { body?: BodyInit; type?: string } {
  switch (c.encoding) {
    case "form":
      return {
        body: new URLSearchParams(c.pairs).toString(),
        type: "application/x-www-form-urlencoded",
      };
    case "multipart": {
      const form = new FormData();
      for (const [k, v] of c.pairs) form.append(k, v);
      return { body: form };
    }
    case "json":
      return {
        body: JSON.stringify(lastWins(c.pairs)),
        type: "application/json",
      };
    case "bad-json":
      return {
        body: JSON.stringify(lastWins(c.pairs)).slice(0, -1) + ",",
        type: "application/json",
      };
    case "bad-multipart":
      // Says multipart, is not: a boundary missing, or one never used.
      return {
        body: new URLSearchParams(c.pairs).toString(),
        type: c.pairs.length % 2
          ? "multipart/form-data"
          : "multipart/form-data; boundary=fuzz",
      };
    case "text":
      return {
        body: c.pairs.map((p) => p.join("=")).join("\n"),
        type: "text/plain",
      };
    case "odd":
      return {
        body: "\u0000\uFFFF",
        type: "application/x-www-form-urlencoded; charset=utf-7",
      };
    case "none":
      return {};
  }
}

const STACK =
  /\bat (async )?\S+ \(?(file|ext|node):|(Type|Reference|Syntax|Range)Error\b/;

export interface FuzzReport {
  endpoint: string;
  cases: number;
  expensive: number;
  statuses: Record<number, number>;
  ms: number;
}

/**
 * One short paragraph a CI log keeps whole: which endpoint, how to replay it
 * (seed and path), what went wrong and the case, cut to a readable length
 * (a counterexample can be a body of 300 kB).
 */
function failureReport(name: string, run: fc.RunDetails<[Case]>): string {
  const error = run.errorInstance instanceof Error
    ? run.errorInstance.message
    : String(run.errorInstance);
  return [
    `${name}: failed after ${run.numRuns} cases`,
    `replay: { seed: ${run.seed}, path: "${run.counterexamplePath}" }`,
    `error: ${error.slice(0, 800)}`,
    `case: ${JSON.stringify(run.counterexample?.[0] ?? null).slice(0, 800)}`,
  ].join("\n");
}

/** Runs `runs` cases against every endpoint on one app; returns counts. */
export async function fuzzEndpoints(
  opts: { runs: number; maxExpensive: number; seed?: number },
): Promise<FuzzReport[]> {
  await using app = await startTestApp({ captureLogs: true });
  const reports: FuzzReport[] = [];
  for (const endpoint of ENDPOINTS) {
    const report: FuzzReport = {
      endpoint: endpoint.name,
      cases: 0,
      expensive: 0,
      statuses: {},
      ms: 0,
    };
    const started = performance.now();
    const run = await fc.check(
      fc.asyncProperty(caseFor(endpoint), async (c) => {
        const fields = lastWins(c.pairs);
        // Only an input the endpoint reads as it is sent costs a hash.
        const readable = endpoint.body === "json"
          ? c.encoding === "json"
          : ["form", "multipart"].includes(c.encoding);
        if (readable && endpoint.expensive?.(fields)) {
          if (report.expensive >= opts.maxExpensive) {
            // Over the ration of Argon2id inputs: make it cheaply invalid.
            c.pairs = c.pairs.filter(([k]) => k !== "password");
          } else report.expensive++;
        }
        const { body, type } = encode(c);
        const headers = new Headers({ origin: app.url });
        if (type) headers.set("content-type", type);
        if (c.cookie !== null) {
          headers.set(
            "cookie",
            `session=${encodeURIComponent(c.cookie)}; lang=${
              encodeURIComponent(c.cookie)
            }`,
          );
        }
        if (c.language !== null) {
          headers.set(
            "accept-language",
            c.language.replace(/[^\x20-\x7e]/g, ""),
          );
        }
        const hasBody = !["GET", "HEAD"].includes(c.method);
        const res = await fetch(new URL(c.path, app.url), {
          method: c.method,
          headers,
          body: hasBody ? body : undefined,
          redirect: "manual",
        });
        const text = await res.text();
        report.cases++;
        report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
        assert.ok(
          res.status < 500,
          `${res.status} for ${JSON.stringify(c).slice(0, 500)}`,
        );
        assert.doesNotMatch(text, STACK);
      }),
      { numRuns: opts.runs, seed: opts.seed, endOnFailure: true },
    );
    if (run.failed) throw new Error(failureReport(endpoint.name, run));
    report.ms = Math.round(performance.now() - started);
    reports.push(report);
  }
  await app.idle(); // requests' background work (mail requests) included
  await app.deps.deliverer.sweep({ minAgeMs: 0 });
  const errors = app.logLines.filter((l) => / (ERROR|WARN) /.test(l));
  assert.deepEqual(errors, []);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
  for (const r of reports) {
    console.log(
      `${r.endpoint}: ${r.cases} cases (${r.expensive} valid) → no 5xx, no stack trace (${r.ms} ms); statuses ${
        JSON.stringify(r.statuses)
      }`,
    );
  }
  return reports;
}
