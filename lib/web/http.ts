// What every route shares: the Hono env type, what the page frame knows about
// the request (pages are rendered by c.render, lib/web/render.ts) and the
// cookies' names and attributes. Reading input: lib/web/input.ts.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "../app/config.ts";
import type { Language, Translate } from "../i18n/i18n.ts";
import type { Session } from "../accounts/sessions.ts";
import type { User } from "../accounts/users.ts";

export interface AppEnv {
  Variables: {
    language: string;
    t: Translate;
    languages: Language[];
    user: User | null;
    session: (Session & { idHash: string }) | null;
    secureHeadersNonce?: string;
    requestId: string;
  };
}

export type AppContext = Context<AppEnv>;

export const SESSION_COOKIE = "session";
/** Marks the browser that registered, so its activation page submits itself. */
export const REGISTERED_COOKIE = "registered";

/**
 * In production the cookies we rely on carry the `__Host-` prefix: the
 * browser then only accepts them from this exact host, Secure, for Path=/,
 * so a page on a sibling subdomain cannot plant ("toss") one of its own.
 */
export function cookiePrefix(config: Config): "host" | undefined {
  return config.env === "production" ? "host" : undefined;
}

/** The name a cookie has on the wire (with its prefix, if any). */
export function cookieName(config: Config, name: string): string {
  return cookiePrefix(config) ? `__Host-${name}` : name;
}

/**
 * A cookie's value, or undefined when it is absent *or sent more than once*.
 * Two cookies of one name mean someone else set one (another path, a parent
 * domain): the browser sends both and nothing says which is ours, so
 * neither is trusted. hono's getCookie would return the first.
 */
export function readCookie(
  c: Context,
  config: Config,
  name: string,
): string | undefined {
  const wire = cookieName(config, name);
  const header = c.req.raw.headers.get("Cookie");
  if (!header || cookieCount(header, wire) !== 1) return undefined;
  return getCookie(c, wire);
}

/** How many times `name` appears in a Cookie header. */
export function cookieCount(header: string, name: string): number {
  let count = 0;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) count++;
  }
  return count;
}

export function setSessionCookie(
  c: AppContext,
  config: Config,
  token: string,
): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: config.secureCookies,
    maxAge: Math.floor(config.sessionTtlMs / 1000),
    prefix: cookiePrefix(config),
  });
}

export const REGISTERED_COOKIE_PATH = "/activate";

export function clearCookie(
  c: AppContext,
  config: Config,
  name: typeof SESSION_COOKIE | typeof REGISTERED_COOKIE,
): void {
  deleteCookie(c, name, {
    path: name === REGISTERED_COOKIE ? REGISTERED_COOKIE_PATH : "/",
    secure: config.secureCookies,
    prefix: cookiePrefix(config),
  });
}

/** "ada@example.com" → "a…@example.com": enough to recognise, not to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  return at < 1 ? "…" : `${email[0]}…${email.slice(at)}`;
}

/** What every page's frame needs to know about the request. */
export interface PageInfo {
  t: Translate;
  lang: string;
  appName: string;
  signedIn: boolean;
  /** Every language, for the footer's switcher. */
  languages: Language[];
  /** This page's path and query, where the switcher comes back to. */
  path: string;
}

export function pageInfo(c: AppContext, config: Config): PageInfo {
  return {
    t: c.get("t"),
    lang: c.get("language"),
    appName: config.appName,
    signedIn: c.get("user") !== null,
    languages: c.get("languages"),
    path: c.req.method === "GET"
      ? new URL(c.req.url).pathname + new URL(c.req.url).search
      : new URL(c.req.url).pathname,
  };
}
