// Which Origin a state-changing request may come from. In production only
// APP_ORIGIN: an origin worked out from the request's own Host header is
// whatever name the browser used, and under DNS rebinding that is the
// attacker's (evil.example resolving to our address sees itself as
// same-origin). Elsewhere the request's origin also counts, so
// http://127.0.0.1:8000 and http://localhost:8000 both work in development.
import type { Config } from "./config.ts";

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
 * A browser says same-origin for a rebound name too, so it counts only when
 * the request carries no Origin to compare (browsers send one on every
 * POST): a foreign Origin is refused, never excused.
 */
export function isAllowedFetchSite(
  site: string,
  origin: string | undefined,
): boolean {
  return site === "same-origin" && origin === undefined;
}
