// What the request log says about a path. Activation links carry a token in
// the URL, so a line never holds the raw path: a matched request logs its
// route pattern ("/activate/:token"), an unmatched one only a short, plain
// first segment ("/favicon.ico", "/activate/…").
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

const PLAIN_SEGMENT = /^[\w.-]{1,32}$/;

/** The path as it may appear in a log line. */
export function loggedPath(c: Context): string {
  // The most specific pattern this request matched, even when a middleware
  // (CSRF, body limit) answered before the handler ran.
  const route = matchedRoutes(c).findLast((r) => r.path !== "/*");
  if (route) return route.path;
  return redactPath(c.req.path);
}

export function redactPath(path: string): string {
  const [first = "", ...rest] = path.split("/").slice(1);
  const head = PLAIN_SEGMENT.test(first) ? `/${first}` : first ? "/…" : "/";
  return rest.length && head !== "/…" ? `${head}/…` : head;
}

const REQUEST_ID = /^[\w\-=]{1,255}$/;

/** The client's X-Request-Id when it is short and plain, else a new one. */
export function requestIdOf(header: string | undefined): string {
  return header && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}
