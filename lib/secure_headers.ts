// The security headers every response carries. They never change, so they are
// one constant list (Hono's secureHeaders with our policy would set the same
// twelve headers, one Headers.set each, on every response): the page cache
// bakes them into its stored responses, and the middleware below adds them to
// everything else.
import type { MiddlewareHandler } from "hono";

/** Hono's secureHeaders defaults, with our CSP, Referrer and frame policy. */
export const SECURE_HEADERS: readonly (readonly [string, string])[] = [
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "DENY"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
  [
    "Content-Security-Policy",
    "default-src 'self'; script-src 'self'; style-src 'self'; " +
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; " +
    "base-uri 'none'; object-src 'none'",
  ],
];

// Set on a response object that already has every header above and its final
// Content-Encoding (the page cache's copies), so neither this middleware nor
// compress() has anything left to do for it.
const COMPLETE = Symbol("response headers complete");

export function markComplete(res: Response): Response {
  (res as Response & { [COMPLETE]?: true })[COMPLETE] = true;
  return res;
}

export function isComplete(res: Response): boolean {
  return (res as Response & { [COMPLETE]?: true })[COMPLETE] === true;
}

/** Adds SECURE_HEADERS to every response, replacing what a handler set. */
export function secureHeaders(): MiddlewareHandler {
  return async function secureHeaders(c, next) {
    await next();
    const res = c.res;
    if (isComplete(res)) return;
    for (const [name, value] of SECURE_HEADERS) res.headers.set(name, value);
    res.headers.delete("X-Powered-By");
  };
}
