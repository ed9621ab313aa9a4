// The environment the app reads, as one zod schema: every variable's name,
// type, range and default (README's configuration table lists them).
// config.ts parses it and turns it into the Config the app uses.
import { z } from "zod";
import {
  DEFAULT_ARGON2_PARAMS,
  MAX_ITERATIONS,
  MAX_MEMORY_KIB,
} from "../security/argon2.ts";
import { DEFAULT_LOG_BUFFER_LINES } from "./log.ts";

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90", "90s", "15m", "12h", "3d" → milliseconds (bare numbers are seconds). */
const duration = (fallback: string) =>
  z.string().trim().default(fallback).transform((value, ctx) => {
    const match = DURATION.exec(value);
    if (!match || Number(match[1]) <= 0) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a duration like 90s, 15m, 12h or 3d`,
      });
      return z.NEVER;
    }
    return Number(match[1]) *
      UNIT_MS[(match[2] ?? "s") as keyof typeof UNIT_MS];
  });

/** "20/15m" → at most 20 requests per 15-minute window. */
const rate = (fallback: string) =>
  z.string().trim().default(fallback).transform((value, ctx) => {
    const [count, window = ""] = value.split("/");
    const match = DURATION.exec(window);
    const limit = Number(count);
    if (!Number.isInteger(limit) || limit < 1 || !match || !Number(match[1])) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a rate like 20/15m`,
      });
      return z.NEVER;
    }
    const windowMs = Number(match[1]) *
      UNIT_MS[(match[2] ?? "s") as keyof typeof UNIT_MS];
    return { limit, windowMs };
  });

export interface RateLimit {
  limit: number;
  windowMs: number;
}

const flag = (fallback: boolean) =>
  z.enum(["true", "false", "1", "0", "yes", "no"]).optional().transform((v) =>
    v === undefined ? fallback : ["true", "1", "yes"].includes(v)
  );

/**
 * Only a path on this site: never `//evil.example` or `https://…`. Control
 * characters are refused outright: browsers drop tabs and newlines from a
 * URL, so "/<TAB>/evil.example" would arrive as "//evil.example".
 */
export function isLocalPath(path: string): boolean {
  // deno-lint-ignore no-control-regex
  return /^\/(?![/\\])/.test(path) && !/[\x00-\x1f\x7f]/.test(path);
}

const redirectPath = (fallback: string) =>
  z.string().default(fallback).refine(
    isLocalPath,
    "must be a path on this site, starting with a single /",
  );

export const MAIL_BACKENDS = ["console", "smtp", "memory", "resend"] as const;
/** Resend's documented default rate limit per team. */
export const RESEND_DEFAULT_PER_SECOND = 5;
/** Backends that only print or keep mail: never what production wants. */
export const FAKE_MAIL_BACKENDS = new Set(["console", "memory"]);

export const EnvSchema = z.object({
  // Not DENO_ENV: Deno Deploy refuses variables whose names start with DENO_.
  APP_ENV: z.enum(["development", "production", "test"]).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOSTNAME: z.string().default("0.0.0.0"),
  KV_PATH: z.string().optional(),
  APP_NAME: z.string().trim().min(1).max(60).default("cloud-user"),
  APP_LOGO_URL: z.url({ protocol: /^https?$/ }).optional(),
  APP_ORIGIN: z.url({ protocol: /^https?$/ }).optional(),
  SECRET_KEY: z.string().optional(),
  SECRET_KEY_FALLBACKS: z.string().default(""),
  ACTIVATION_MAX_AGE: duration("3d"),
  PENDING_USER_TTL: duration("7d"),
  PASSWORD_RESET_MAX_AGE: duration("1h"),
  ACCOUNT_DELETION_MAX_AGE: duration("1h"),
  EMAIL_CHANGE_MAX_AGE: duration("1h"),
  RATE_LIMIT_IP: rate("30/15m"),
  RATE_LIMIT_EMAIL: rate("10/15m"),
  RESEND_INTERVAL: duration("60s"),
  MAIL_BUDGET_PER_DOMAIN_HOUR: z.coerce.number().int().min(1).default(100),
  MAIL_BUDGET_HOUR: z.coerce.number().int().min(1).default(1000),
  LOGIN_FREE_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  SESSION_TTL: duration("14d"),
  REDIRECT_AFTER_ACTIVATION: redirectPath("/account"),
  REDIRECT_IF_ALREADY_ACTIVE: redirectPath("/login?activated=1"),
  MAIL_BACKEND: z.enum(MAIL_BACKENDS).default("console"),
  MAIL_FROM: z.string().default("cloud-user <no-reply@localhost>"),
  SMTP_HOST: z.string().default("localhost"),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_SECURE: flag(false),
  RESEND_API_KEY: z.string().optional(),
  RESEND_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  MAIL_MAX_PER_SECOND: z.coerce.number().min(0).max(10_000).optional(),
  MAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(10),
  MAIL_MAX_AGE: duration("2d"),
  APP_VERSION: z.string().trim().max(100).optional(),
  DEV_MAIL: flag(false),
  HEALTH_MAX_OUTBOX_AGE: duration("15m"),
  HEALTH_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  SIGNAL_QUEUE: z.enum(["kv", "none"]).optional(),
  LOG_FORMAT: z.enum(["text", "json"]).default("text"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  LOG_BUFFER_LINES: z.coerce.number().int().min(16).max(1_000_000).default(
    DEFAULT_LOG_BUFFER_LINES,
  ),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(64 * 1024),
  HEADERS_TIMEOUT: duration("30s"),
  IDLE_TIMEOUT: duration("60s"),
  MIN_BODY_RATE: z.coerce.number().int().min(1).default(240),
  SLOW_CLIENT_RELAY: flag(true),
  PASSWORD_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  PASSWORD_BACKEND: z.enum(["auto", "native", "wasm"]).default("auto"),
  PASSWORD_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(
    64,
  ),
  PASSWORD_MEMORY_KIB: z.coerce.number().int().min(1).max(MAX_MEMORY_KIB)
    .default(DEFAULT_ARGON2_PARAMS.memoryKib),
  PASSWORD_ITERATIONS: z.coerce.number().int().min(1).max(MAX_ITERATIONS)
    .default(DEFAULT_ARGON2_PARAMS.iterations),
  SHUTDOWN_GRACE: duration("5s"),
});
