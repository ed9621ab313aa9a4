// Which Origin a state-changing request may come from. In production only
// APP_ORIGIN: an origin worked out from the request's own Host header is
// whatever name the browser used, and under DNS rebinding that is the
// attacker's (evil.example resolving to our address sees itself as
// same-origin). Elsewhere the request's origin also counts, so
// http://127.0.0.1:8000 and http://localhost:8000 both work in development.
import type { Config } from "../app/config.ts";

export function isAllowedOrigin(
  config: Pick<Config, "env" | "appOrigin">,
  origin: string,
  requestUrl: string,
): boolean {
  if (origin === config.appOrigin) return true;
  return config.env !== "production" && origin === new URL(requestUrl).origin;
}

/**
 * Whether `Sec-Fetch-Site: same-origin` may stand in for an Origin check.
 * Our own pages send it with no Origin or with `Origin: null` (their
 * Referrer-Policy is no-referrer, and browsers then hide the origin of a
 * form post). A foreign Origin is never excused. A browser says same-origin
 * for a rebound name too, so in production the request must also be
 * addressed to APP_ORIGIN's host: under DNS rebinding its Host header is
 * the attacker's name. (A proxy in front must pass Host through.)
 */
export function isAllowedFetchSite(
  config: Pick<Config, "env" | "appOrigin">,
  site: string,
  origin: string | undefined,
  requestUrl: string,
): boolean {
  if (site !== "same-origin") return false;
  if (origin !== undefined && origin !== "null") return false;
  return config.env !== "production" ||
    new URL(requestUrl).host === new URL(config.appOrigin).host;
}
