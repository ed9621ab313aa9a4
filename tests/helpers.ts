// Test scaffolding: a real app on 127.0.0.1:0 with a real in-memory KV, the
// memory mail backend and a clock the test controls; plus a tiny browser that
// keeps cookies and sends the Origin header a real form post carries.
import { type Config, loadConfig } from "../lib/app/config.ts";
import type { Clock } from "../lib/app/clock.ts";
import { createLogger, silentLogger } from "../lib/app/log.ts";
import { createMemoryMailer, type MemoryMailer } from "../lib/mail/memory.ts";
import type { PasswordHasher } from "../lib/security/passwords.ts";
import { type RunningApp, startApp } from "../lib/app/server.ts";
import { keys } from "../lib/kv/keys.ts";

export const TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789";
export const TEST_ORIGIN = "http://app.test";
export const GOOD_PASSWORD = "correct horse battery";

export function testConfig(env: Record<string, string> = {}): Config {
  const res = loadConfig({
    APP_ENV: "test",
    PORT: "0",
    HOSTNAME: "127.0.0.1",
    KV_PATH: ":memory:",
    APP_ORIGIN: TEST_ORIGIN,
    MAIL_BACKEND: "memory",
    SECRET_KEY: TEST_SECRET,
    PASSWORD_WORKERS: "0",
    // Races, fuzz and fault tests send hundreds of requests from one address;
    // the rate-limit tests set the limits they exercise.
    RATE_LIMIT_IP: "100000/1m",
    RATE_LIMIT_EMAIL: "100000/1m",
    // Deno.serve directly: the relay costs CPU on every request and has its
    // own tests (tests/security/slow_clients_test.ts turns it on; so do the
    // tests that start main.ts as a process).
    SLOW_CLIENT_RELAY: "false",
    // High mail budgets too; tests/security/mail_flood_test.ts sets its own.
    MAIL_BUDGET_PER_DOMAIN_HOUR: "1000000",
    MAIL_BUDGET_HOUR: "1000000",
    ...env,
  });
  if (!res.ok) throw new Error(res.error);
  return res.config;
}

/**
 * Rate limits count in fixed windows aligned to the epoch (1 m, 15 m, 1 h):
 * a test clock that started at the real time would, a minute before a
 * window's edge, see its counts reset when a test moves it on. It starts at
 * the current hour, the edge of every such window.
 */
const HOUR = 3_600_000;

export class TestClock implements Clock {
  constructor(public time = Math.floor(Date.now() / HOUR) * HOUR) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface TestApp extends RunningApp, AsyncDisposable {
  kv: Deno.Kv;
  /** The memory backend (stays empty when the test chose another one). */
  mailer: MemoryMailer;
  clock: TestClock;
  logLines: string[];
  /** A new cookie-keeping client, as a fresh browser would be. */
  browser(): TestBrowser;
  /** Waits for the nth mail (1-based) and returns the path of its link. */
  activationPath(nth?: number): Promise<string>;
}

export async function startTestApp(
  opts: {
    env?: Record<string, string>;
    captureLogs?: boolean;
    logFormat?: "text" | "json";
    /** The app gets this in place of its KV (the same KV, wrapped). */
    wrapKv?: (kv: Deno.Kv) => Deno.Kv;
    /** In place of the app's Argon2id pool (see lib/app/server.ts). */
    passwords?: PasswordHasher;
  } = {},
): Promise<TestApp> {
  const config = testConfig(opts.env);
  const kv = await Deno.openKv(":memory:");
  const appKv = opts.wrapKv?.(kv) ?? kv;
  // Tests that name another backend (smtp to a loopback server) get it.
  const mailer = createMemoryMailer({ from: config.mail.from });
  const realMailer = config.mail.backend === "memory" ? mailer : undefined;
  const clock = new TestClock();
  const logLines: string[] = [];
  const log = opts.captureLogs
    ? createLogger({
      format: opts.logFormat ?? "text",
      write: (_l, line) => logLines.push(line),
    })
    : silentLogger;
  const app = await startApp(config, {
    kv: appKv,
    mailer: realMailer,
    clock,
    log,
    passwords: opts.passwords,
  });
  return {
    ...app,
    kv,
    mailer,
    clock,
    logLines,
    browser: () => new TestBrowser(app.url),
    async activationPath(nth = 1) {
      const mails = await mailer.waitFor(nth);
      return linkPath(mails[nth - 1].text, "/activate/");
    },
    [Symbol.asyncDispose]: () => app.shutdown(),
  };
}

/** The path of the first link in a mail body that starts with `prefix`. */
export function linkPath(body: string, prefix: string): string {
  const match = body.match(/https?:\/\/[^\s"<]+/g)?.map((u) => new URL(u))
    .find((u) => u.pathname.startsWith(prefix));
  if (!match) throw new Error(`no ${prefix} link in mail:\n${body}`);
  return match.pathname;
}

export interface Sent {
  status: number;
  headers: Headers;
  body: string;
  location: string | null;
}

export class TestBrowser {
  cookies = new Map<string, string>();
  /**
   * `origin`: what its posts send as `Origin`; the base by default, the
   * public origin where the app is reached by another address (behind a
   * proxy, or production on loopback in the Deploy test).
   */
  constructor(readonly base: string, readonly origin: string = base) {}

  async request(
    method: string,
    path: string,
    init: {
      form?: Record<string, string>;
      /** Sent as application/json unless headers say otherwise. */
      json?: unknown;
      headers?: HeadersInit;
      signal?: AbortSignal;
    } = {},
  ): Promise<Sent> {
    const headers = new Headers(init.headers);
    if (init.json !== undefined && !headers.has("content-type")) {
      headers.set("content-type", "application/json");
    }
    if (!headers.has("origin") && method !== "GET" && method !== "HEAD") {
      headers.set("origin", this.origin);
    }
    const cookie = this.cookieHeader();
    if (cookie) headers.set("cookie", cookie);
    const res = await fetch(new URL(path, this.base), {
      method,
      headers,
      body: init.form
        ? new URLSearchParams(init.form)
        : init.json !== undefined
        ? JSON.stringify(init.json)
        : undefined,
      redirect: "manual",
      signal: init.signal,
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair, ...attrs] = cookie.split(";");
      const [name, value] = pair.split("=");
      const expired = attrs.some((a) => a.trim().toLowerCase() === "max-age=0");
      if (expired || value === "") this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
    return {
      status: res.status,
      headers: res.headers,
      body: await res.text(),
      location: res.headers.get("location"),
    };
  }

  /** The Cookie header this browser sends, or null for none. */
  protected cookieHeader(): string | null {
    if (!this.cookies.size) return null;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** Another tab of this browser: the same cookies, kept apart from now on. */
  tab(): TestBrowser {
    const copy = new TestBrowser(this.base);
    copy.cookies = new Map(this.cookies);
    return copy;
  }

  get(path: string, headers?: HeadersInit) {
    return this.request("GET", path, { headers });
  }

  post(path: string, form: Record<string, string> = {}, headers?: HeadersInit) {
    return this.request("POST", path, { form, headers });
  }

  /** POST a JSON body; the answer's body parsed when it is JSON. */
  async api(path: string, json?: unknown, headers?: HeadersInit) {
    const res = await this.request("POST", path, { json: json ?? {}, headers });
    return { ...res, json: res.body ? JSON.parse(res.body) : null };
  }

  register(fields: Partial<Record<string, string>> = {}) {
    return this.post("/register", {
      first_name: "Ada",
      email: "ada@example.com",
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
      ...fields,
    } as Record<string, string>);
  }
}

/** Every key in the store, for "nothing half-written" checks. */
export async function allKeys(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of kv.list({ prefix: [] })) {
    out.push(JSON.stringify(entry.key));
  }
  return out.sort();
}

export async function countPrefix(kv: Deno.Kv, prefix: Deno.KvKey) {
  let n = 0;
  for await (const _ of kv.list({ prefix })) n++;
  return n;
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Registers and activates an account; returns the browser now signed in. */
export async function createActiveAccount(
  app: TestApp,
  fields: Record<string, string> = {},
): Promise<TestBrowser> {
  const browser = app.browser();
  const before = app.mailer.sent.length;
  await browser.register(fields);
  const path = await app.activationPath(before + 1);
  const res = await browser.post(path);
  if (res.status !== 303) throw new Error(`activation failed: ${res.status}`);
  return browser;
}

/** Waits until the outbox is empty: every signal so far was delivered. */
/** Waits for requests' background work, then for the outbox to empty. */
export async function outboxDrained(app: TestApp): Promise<void> {
  await app.idle();
  await waitUntil(async () => await countPrefix(app.kv, keys.outbox()) === 0);
}
