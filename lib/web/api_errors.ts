// The JSON API's one error shape, {"error": {"code", "message", "fields"}},
// and the guards every API request passes: same-site only, JSON only.
import type { MiddlewareHandler } from "hono";
import * as z from "zod/mini";
import type { Config } from "../app/config.ts";
import type { AppContext, AppEnv } from "./http.ts";
import { isAllowedOrigin } from "./origins.ts";
import { type FieldErrors, fieldErrors } from "../accounts/schemas.ts";
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

/** Field name → its code (a stable message key) and the translated text. */
export type ApiFields = Record<string, { code: string; message: string }>;

export function apiError(
  c: AppContext,
  status: ApiStatus,
  code: string,
  messageKey: string,
  errors: FieldErrors = {},
) {
  const t = c.get("t");
  const fields: ApiFields = {};
  for (const [name, key] of Object.entries(errors)) {
    fields[name] = { code: key, message: t(key) };
  }
  c.header("Cache-Control", "no-store");
  return c.json({ error: { code, message: t(messageKey), fields } }, status);
}

export function apiTooMany(c: AppContext, retryAfterMs: number) {
  c.header("Retry-After", String(retryAfterSeconds(retryAfterMs)));
  return apiError(c, 429, "rate_limited", "limit.api");
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
  return apiError(c, 409, "busy", "busy.api");
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
      return apiError(c, 403, "cross_site", "error.forbidden_body");
    }
    await next();
  };
}

/** Validated JSON input, or the response that says what is wrong. */
export async function readJson<T>(
  c: AppContext,
  schema: z.core.$ZodType<T>,
): Promise<{ ok: true; data: T } | { ok: false; response: Response }> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return {
      ok: false,
      response: apiError(c, 415, "unsupported_media_type", "api.json_only"),
    };
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return {
      ok: false,
      response: apiError(c, 400, "invalid_json", "api.invalid_json"),
    };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return {
      ok: false,
      response: apiError(c, 400, "invalid_json", "api.object_expected"),
    };
  }
  const parsed = z.safeParse(schema, body);
  if (!parsed.success) {
    return {
      ok: false,
      response: apiError(
        c,
        422,
        "validation_failed",
        "register.errors_title",
        fieldErrors(parsed.error),
      ),
    };
  }
  return { ok: true, data: parsed.data };
}
