// The security headers every response carries. They never change, so they
// are worked out once: Hono's secureHeaders middleware is asked, at start-up,
// what it sets for our policy. The page cache bakes that list into its stored
// responses, and the middleware below adds it to everything else, without
// Hono's per-response work (twelve Headers.set and a policy string each time).
import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { secureHeaders as honoSecureHeaders } from "hono/secure-headers";

type SecureHeadersOptions = NonNullable<
  Parameters<typeof honoSecureHeaders>[0]
>;

/**
 * Our policy: Hono's defaults, a strict CSP, no referrer, no framing, and no
 * powerful browser feature: the app uses none, so an injected script or a
 * framed page cannot ask for them in our name.
 */
export const SECURITY_POLICY: SecureHeadersOptions = {
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  },
  referrerPolicy: "no-referrer",
  xFrameOptions: "DENY",
  permissionsPolicy: {
    accelerometer: [],
    autoplay: [],
    bluetooth: [],
    browsingTopics: [],
    camera: [],
    displayCapture: [],
    geolocation: [],
    gyroscope: [],
    hid: [],
    idleDetection: [],
    magnetometer: [],
    microphone: [],
    midi: [],
    payment: [],
    publickeyCredentialsGet: [],
    serial: [],
    usb: [],
    xrSpatialTracking: [],
  },
};

async function askHono(): Promise<[string, string][]> {
  const probe = new Hono();
  probe.use(honoSecureHeaders(SECURITY_POLICY));
  probe.get("/", (c) => c.body(null));
  const res = await probe.request("/");
  return [...res.headers].filter(([name]) => name !== "content-type");
}

/** Exactly what Hono's secureHeaders sets with SECURITY_POLICY. */
export const SECURE_HEADERS: readonly (readonly [string, string])[] =
  await askHono();

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
