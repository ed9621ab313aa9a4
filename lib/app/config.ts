// Parses the environment once, at start-up, into one typed object. A bad
// start names every wrong variable in one message; secrets have no defaults.
// The variables themselves (names, types, defaults): env.ts.
import denoJson from "../../deno.json" with { type: "json" };
import { meetsOwaspMinimum, OWASP_MINIMUMS } from "../security/argon2.ts";
import {
  EnvSchema,
  FAKE_MAIL_BACKENDS,
  MAIL_BACKENDS,
  type RateLimit,
  RESEND_DEFAULT_PER_SECOND,
} from "./env.ts";
import { SECRET_ADVICE, weakSecretReason } from "./secret_strength.ts";

export interface Config {
  env: "development" | "production" | "test";
  port: number;
  hostname: string;
  /** undefined: Deno's default database (the managed KV on Deno Deploy). */
  kvPath: string | undefined;
  appName: string;
  /** An image for the top of every mail; without it, the app's name. */
  appLogoUrl: string | undefined;
  /** Where links in mails point; no trailing slash. */
  appOrigin: string;
  /** Whether cookies get the Secure attribute (all but plain-http localhost). */
  secureCookies: boolean;
  /**
   * SECRET_KEY; null only outside production when it is unset: startApp then
   * uses a random key kept in KV (lib/app/dev_secret.ts).
   */
  secretKey: string | null;
  secretKeyFallbacks: string[];
  activationMaxAgeMs: number;
  pendingUserTtlMs: number;
  passwordResetMaxAgeMs: number;
  /** How long the link that confirms an account's deletion works. */
  accountDeletionMaxAgeMs: number;
  /** How long the link that confirms a new address works. */
  emailChangeMaxAgeMs: number;
  /** Per action (register, login, resend, forgot) and client IP. */
  rateLimitIp: RateLimit;
  /** Per action and email address. */
  rateLimitEmail: RateLimit;
  /**
   * The shortest time between two activation mails, or two reset mails,
   * asked for one (canonical) mailbox.
   */
  resendIntervalMs: number;
  /** Mails per hour to one recipient domain; more are not sent. */
  mailBudgetPerDomainHour: number;
  /** Mails per hour in all; more are not sent. */
  mailBudgetHour: number;
  /** Failed logins per account before each next try must wait longer. */
  loginFreeFailures: number;
  /** Proxies in front of the app that append to X-Forwarded-For; 0: none. */
  trustedProxyHops: number;
  sessionTtlMs: number;
  redirectAfterActivation: string;
  redirectIfAlreadyActive: string;
  mail: {
    backend: typeof MAIL_BACKENDS[number];
    from: string;
    /** For MAIL_BACKEND=resend; baseUrl undefined means Resend's own. */
    resend: { apiKey: string; baseUrl?: string };
    /** Sends per second for the whole instance; 0: no limit. */
    maxPerSecond: number;
    /** A mail is kept as a dead letter after this many failed attempts… */
    maxAttempts: number;
    /** …or when its next attempt would come later than this after it was queued. */
    maxAgeMs: number;
    smtp: {
      host: string;
      port: number;
      user?: string;
      password?: string;
      secure: boolean;
    };
  };
  /** "kv": signals ride a KV queue as well as the outbox; "none": cron only. */
  signalQueue: "kv" | "none";
  logFormat: "text" | "json";
  logLevel: "debug" | "info" | "warn" | "error";
  /** Log lines held while stdout is slow; beyond, lines are dropped and counted. */
  logBufferLines: number;
  maxBodyBytes: number;
  /**
   * Slow and idle clients are closed (lib/web/slow_clients.ts); null on Deno
   * Deploy, where the app serves through Deno.serve alone, and with
   * SLOW_CLIENT_RELAY=false (a reverse proxy in front enforces timeouts).
   */
  slowClients: {
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    minBodyBytesPerSecond: number;
    bodyGraceMs: number;
  } | null;
  /**
   * Hashing worker threads (0: the main thread); null: one per core (at
   * most 8), one fewer while the threads cannot run at a lower priority.
   */
  passwordWorkers: number | null;
  /** "auto": the native addon when it loads, else hash-wasm. */
  passwordBackend: "auto" | "native" | "wasm";
  /** Hashing jobs that may wait; beyond, requests get 503 + Retry-After. */
  passwordQueueLimit: number;
  /** Argon2id cost for new hashes; never below an OWASP configuration. */
  passwordParams: { memoryKib: number; iterations: number };
  /** /dev/mail: DEV_MAIL=1, in development only (see lib/app/server.ts). */
  devMail: boolean;
  /** APP_VERSION, else deno.json's "version"; shown by /healthz. */
  version: string;
  /** /healthz says "degraded" once the oldest outbox entry is older. */
  healthMaxOutboxAgeMs: number;
  /** How long shutdown waits for requests and deliveries before giving up. */
  shutdownGraceMs: number;
  /** Accepted but worth a line in the log at start-up. */
  warnings: string[];
  /** Bearer token for /healthz's detailed view from afar; none: loopback only. */
  healthToken: string | undefined;
}

export type ConfigResult =
  | { ok: true; config: Config }
  | { ok: false; error: string };

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A KV Connect URL (a remote KV) rather than a file or :memory:. */
export const isRemoteKv = (path: string | undefined): boolean =>
  /^https?:\/\//i.test(path ?? "");

export function loadConfig(
  env: Record<string, string | undefined>,
): ConfigResult {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) =>
      `${i.path.join(".")}: ${i.message}`
    );
    return { ok: false, error: `bad configuration: ${problems.join("; ")}` };
  }
  const e = parsed.data;
  const problems: string[] = [];
  const warnings: string[] = [];
  if (cleaned.DENO_ENV) {
    // Silently ignoring it would start a production deployment as development.
    problems.push(
      "DENO_ENV: renamed to APP_ENV (Deno Deploy refuses DENO_ variables); set APP_ENV instead",
    );
  }
  // Deploy sets DENO_DEPLOYMENT_ID in every context; a deployment is
  // production unless APP_ENV says otherwise, so a forgotten variable fails
  // safe (a strong key, https links, a real mail backend).
  const onDeploy = Boolean(cleaned.DENO_DEPLOYMENT_ID);
  const appEnv = e.APP_ENV ?? (onDeploy ? "production" : "development");
  if (onDeploy && appEnv !== "production") {
    warnings.push(
      `APP_ENV=${appEnv} on Deno Deploy: production checks are off for this deployment`,
    );
  }
  const production = appEnv === "production";
  if (!e.SECRET_KEY) {
    if (production) {
      problems.push(`SECRET_KEY: required in production; ${SECRET_ADVICE}`);
    }
  } else {
    const weak = weakSecretReason(e.SECRET_KEY);
    if (weak) problems.push(`SECRET_KEY: ${weak}; ${SECRET_ADVICE}`);
  }
  const fallbacks = e.SECRET_KEY_FALLBACKS.split(",").map((k) => k.trim())
    .filter(Boolean);
  fallbacks.forEach((key, i) => {
    const weak = key === e.SECRET_KEY
      ? "is SECRET_KEY itself; list only the old keys"
      : weakSecretReason(key);
    if (weak) {
      problems.push(
        `SECRET_KEY_FALLBACKS: key ${i + 1} ${weak}; remove it or replace it`,
      );
    }
  });
  const remoteKv = isRemoteKv(e.KV_PATH);
  if (remoteKv) {
    if (!cleaned.DENO_KV_ACCESS_TOKEN) {
      problems.push(
        "DENO_KV_ACCESS_TOKEN: required with a remote KV_PATH; set it to the database's access token",
      );
    }
    if (e.SIGNAL_QUEUE === "kv") {
      // KV Connect refuses every enqueue and delivers no queue messages.
      problems.push(
        "SIGNAL_QUEUE: kv does not work with a remote KV_PATH (no queues over KV Connect); use none",
      );
    }
  }
  if (production) {
    if (e.KV_PATH === ":memory:") {
      problems.push("KV_PATH: :memory: loses every account on restart");
    }
    if (remoteKv && !/^https:/i.test(e.KV_PATH!)) {
      problems.push(
        "KV_PATH: a remote KV must be https in production (the access token and every record cross the network)",
      );
    }
    if (e.RESEND_BASE_URL && !e.RESEND_BASE_URL.startsWith("https://")) {
      problems.push("RESEND_BASE_URL: must be https in production");
    }
    if (!e.APP_ORIGIN) problems.push("APP_ORIGIN: required in production");
    if (FAKE_MAIL_BACKENDS.has(e.MAIL_BACKEND)) {
      problems.push(
        `MAIL_BACKEND: "${e.MAIL_BACKEND}" does not deliver mail; use a real backend in production`,
      );
    }
  }
  if (e.MAIL_BACKEND === "resend" && !e.RESEND_API_KEY) {
    problems.push("RESEND_API_KEY: required when MAIL_BACKEND=resend");
  }
  const origin = new URL(e.APP_ORIGIN ?? `http://localhost:${e.PORT}`);
  if (production && e.APP_ORIGIN && origin.protocol !== "https:") {
    problems.push("APP_ORIGIN: must be https in production");
  }
  const passwordParams = {
    memoryKib: e.PASSWORD_MEMORY_KIB,
    iterations: e.PASSWORD_ITERATIONS,
  };
  if (!meetsOwaspMinimum(passwordParams)) {
    const pairs = OWASP_MINIMUMS.map((o) => `${o.memoryKib}/${o.iterations}`);
    problems.push(
      `PASSWORD_MEMORY_KIB/PASSWORD_ITERATIONS: ${passwordParams.memoryKib}/${passwordParams.iterations} is below OWASP's minimum; use at least one of ${
        pairs.join(", ")
      }`,
    );
  }
  if (problems.length) {
    return { ok: false, error: `bad configuration: ${problems.join("; ")}` };
  }
  return {
    ok: true,
    config: {
      env: appEnv,
      port: e.PORT,
      hostname: e.HOSTNAME,
      kvPath: e.KV_PATH ?? (onDeploy ? undefined : "data/cloud-user.sqlite3"),
      appName: e.APP_NAME,
      appLogoUrl: e.APP_LOGO_URL,
      appOrigin: origin.origin,
      secureCookies: !(origin.protocol === "http:" &&
        LOCAL_HOSTS.has(origin.hostname)),
      secretKey: e.SECRET_KEY ?? null,
      secretKeyFallbacks: fallbacks,
      activationMaxAgeMs: e.ACTIVATION_MAX_AGE,
      pendingUserTtlMs: e.PENDING_USER_TTL,
      passwordResetMaxAgeMs: e.PASSWORD_RESET_MAX_AGE,
      accountDeletionMaxAgeMs: e.ACCOUNT_DELETION_MAX_AGE,
      emailChangeMaxAgeMs: e.EMAIL_CHANGE_MAX_AGE,
      rateLimitIp: e.RATE_LIMIT_IP,
      rateLimitEmail: e.RATE_LIMIT_EMAIL,
      resendIntervalMs: e.RESEND_INTERVAL,
      mailBudgetPerDomainHour: e.MAIL_BUDGET_PER_DOMAIN_HOUR,
      mailBudgetHour: e.MAIL_BUDGET_HOUR,
      loginFreeFailures: e.LOGIN_FREE_FAILURES,
      trustedProxyHops: e.TRUSTED_PROXY_HOPS,
      sessionTtlMs: e.SESSION_TTL,
      redirectAfterActivation: e.REDIRECT_AFTER_ACTIVATION,
      redirectIfAlreadyActive: e.REDIRECT_IF_ALREADY_ACTIVE,
      mail: {
        backend: e.MAIL_BACKEND,
        from: e.MAIL_FROM,
        smtp: {
          host: e.SMTP_HOST,
          port: e.SMTP_PORT,
          user: e.SMTP_USER,
          password: e.SMTP_PASSWORD,
          secure: e.SMTP_SECURE,
        },
        resend: { apiKey: e.RESEND_API_KEY ?? "", baseUrl: e.RESEND_BASE_URL },
        // Resend allows 5 requests per second per team by default
        // (resend.com/docs/api-reference/rate-limit); the others have no
        // documented limit of their own.
        maxPerSecond: e.MAIL_MAX_PER_SECOND ??
          (e.MAIL_BACKEND === "resend" ? RESEND_DEFAULT_PER_SECOND : 0),
        maxAttempts: e.MAIL_MAX_ATTEMPTS,
        maxAgeMs: e.MAIL_MAX_AGE,
      },
      // Deploy has no KV queues, and a remote KV (KV Connect) delivers none
      // to its clients: there the sweep (and an immediate try) deliver.
      signalQueue: e.SIGNAL_QUEUE ?? (onDeploy || remoteKv ? "none" : "kv"),
      logFormat: e.LOG_FORMAT,
      logLevel: e.LOG_LEVEL,
      logBufferLines: e.LOG_BUFFER_LINES,
      maxBodyBytes: e.MAX_BODY_BYTES,
      slowClients: onDeploy || !e.SLOW_CLIENT_RELAY ? null : {
        headersTimeoutMs: e.HEADERS_TIMEOUT,
        idleTimeoutMs: e.IDLE_TIMEOUT,
        minBodyBytesPerSecond: e.MIN_BODY_RATE,
        // A body's first seconds may be slow (a phone waking its radio).
        bodyGraceMs: Math.min(5_000, e.HEADERS_TIMEOUT),
      },
      // Unset: every core, at a lower CPU priority than the pages (see
      // lib/security/thread_priority.ts); where that cannot be, one core stays
      // with the event loop (on 2 cores at normal priority, two hashing
      // workers made GET p99 4-7x its idle value during a sign-up rush).
      passwordWorkers: e.PASSWORD_WORKERS ?? null,
      passwordBackend: e.PASSWORD_BACKEND,
      passwordQueueLimit: e.PASSWORD_QUEUE_LIMIT,
      passwordParams,
      devMail: e.DEV_MAIL && e.APP_ENV === "development",
      version: e.APP_VERSION ?? denoJson.version,
      healthMaxOutboxAgeMs: e.HEALTH_MAX_OUTBOX_AGE,
      shutdownGraceMs: e.SHUTDOWN_GRACE,
      warnings,
      healthToken: e.HEALTH_TOKEN,
    },
  };
}
