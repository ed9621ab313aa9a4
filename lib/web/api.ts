// What every JSON endpoint shares: the one error shape, {"error": {"code",
// "message", "fields"}}, with its one table of codes; the 202 "accepted"
// answer; the public view of a user; and the guard every API request
// passes: same-site only. Reading the JSON itself: lib/web/input.ts.
import type { MiddlewareHandler } from "hono";
import type { Config } from "../app/config.ts";
import type { AppContext, AppEnv } from "./http.ts";
import { isAllowedOrigin } from "./origins.ts";
import type { FieldErrors } from "../accounts/schemas.ts";
import type { User } from "../accounts/users.ts";
import { retryAfterSeconds } from "./request_limits.tsx";

export type ApiStatus =
  | 400
  | 401
  | 403
  | 404
  | 409
  | 413
  | 415
  | 422
  | 429
  | 500
  | 503;

/**
 * Every code the API answers with, and its one status (docs/api.md lists
 * them; tests/api/api_test.ts checks that it does).
 */
export const API_ERRORS = {
  invalid_json: 400,
  malformed: 400,
  invalid_token: 400,
  expired_token: 400,
  invalid_credentials: 401,
  unauthenticated: 401,
  cross_site: 403,
  forbidden: 403,
  account_disabled: 403,
  not_found: 404,
  already_active: 409,
  busy: 409,
  email_taken: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unsupported: 415,
  validation_failed: 422,
  password_required: 422,
  rate_limited: 429,
  server: 500,
  unavailable: 503,
} as const satisfies Record<string, ApiStatus>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Field name → its code (a stable message key) and the translated text. */
export type ApiFields = Record<string, { code: string; message: string }>;

/** The API's one error shape, with the status its code has. */
export function apiError(
  c: AppContext,
  code: ApiErrorCode,
  messageKey: string,
  errors: FieldErrors = {},
) {
  const t = c.get("t");
  const fields: ApiFields = {};
  for (const [name, key] of Object.entries(errors)) {
    fields[name] = { code: key, message: t(key) };
  }
  c.header("Cache-Control", "no-store");
  return c.json(
    { error: { code, message: t(messageKey), fields } },
    API_ERRORS[code],
  );
}

/** A failed link check's code: `invalid_token` or `expired_token`. */
export function tokenError(reason: "invalid" | "expired"): ApiErrorCode {
  return reason === "expired" ? "expired_token" : "invalid_token";
}

export function apiTooMany(c: AppContext, retryAfterMs: number) {
  c.header("Retry-After", String(retryAfterSeconds(retryAfterMs)));
  return apiError(c, "rate_limited", "limit.api");
}

/** 429 for a spent budget, 409 `busy` while another request hashes. */
export function apiHashTurnRefused(
  c: AppContext,
  refused: { reason: "limited" | "busy"; retryAfterMs: number },
) {
  if (refused.reason === "limited") {
    return apiTooMany(c, refused.retryAfterMs);
  }
  c.header("Retry-After", String(retryAfterSeconds(refused.retryAfterMs)));
  return apiError(c, "busy", "busy.api");
}

export function isApiPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/");
}

/**
 * Browsers cannot send a JSON body to another site without a CORS preflight
 * we never answer, but we do not lean on that alone: a request that says it
 * comes from elsewhere (Origin, or Sec-Fetch-Site) is refused before any
 * cookie is used. Clients that are not browsers send neither header and
 * carry no one else's cookies, so they pass.
 */
export function sameSiteOnly(
  config: Pick<Config, "env" | "appOrigin">,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    const foreignSite = site !== undefined &&
      site !== "same-origin" && site !== "none";
    // Only APP_ORIGIN in production (lib/web/origins.ts: DNS rebinding).
    const foreignOrigin = origin !== undefined &&
      !isAllowedOrigin(config, origin, c.req.url);
    if (foreignSite || foreignOrigin) {
      return apiError(c, "cross_site", "error.forbidden_body");
    }
    await next();
  };
}

/** What the API tells a signed-in person about themselves; never the hash. */
export function publicUser(user: User) {
  return {
    id: user.id,
    first_name: user.firstName,
    email: user.email,
    lang: user.lang,
    activated_at: user.activatedAt === null
      ? null
      : new Date(user.activatedAt).toISOString(),
  };
}

/** 202 for every address: whether a mail went out is the owner's business. */
export function accepted(
  c: AppContext,
  messageKey: string,
  extra: Record<string, number> = {},
) {
  c.header("Cache-Control", "no-store");
  return c.json(
    { status: "accepted", message: c.get("t")(messageKey), ...extra },
    202,
  );
}
