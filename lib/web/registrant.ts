// The registering browser: the one idea behind "the page submits itself in
// the browser that registered". Registration marks the browser with a signed
// cookie naming whoever set the account's credentials just now; activation
// reads it (that browser needs no password) and forgets it once used.
import { setCookie } from "hono/cookie";
import type { AppDeps } from "../app/deps.ts";
import { REGISTERED_PURPOSE } from "../accounts/token_purposes.ts";
import {
  type AppContext,
  clearCookie,
  cookiePrefix,
  readCookie,
  REGISTERED_COOKIE,
  REGISTERED_COOKIE_PATH,
} from "./http.ts";

/** How long a browser stays "the one that registered". */
export const REGISTERED_COOKIE_MAX_AGE_MS = 24 * 3_600_000;

/**
 * Marks this browser as the one that registered as `registrant`. Outside
 * production the cookie is only sent to /activate; a `__Host-` cookie must
 * have Path=/.
 */
export async function markRegisteringBrowser(
  c: AppContext,
  { config, signer, clock }: Pick<AppDeps, "config" | "signer" | "clock">,
  registrant: string,
): Promise<void> {
  const marker = await signer.sign(REGISTERED_PURPOSE, {
    sub: registrant,
    iat: clock.now(),
  });
  setCookie(c, REGISTERED_COOKIE, marker, {
    httpOnly: true,
    sameSite: "Lax",
    path: REGISTERED_COOKIE_PATH,
    secure: config.secureCookies,
    maxAge: Math.floor(REGISTERED_COOKIE_MAX_AGE_MS / 1000),
    prefix: cookiePrefix(config),
  });
}

/** Who this browser registered as (its marker), or null. */
export async function registrantHere(
  c: AppContext,
  { config, signer, clock }: Pick<AppDeps, "config" | "signer" | "clock">,
): Promise<string | null> {
  // Sent twice (one tossed in by someone else): not the registering browser.
  const marker = readCookie(c, config, REGISTERED_COOKIE);
  if (!marker) return null;
  const res = await signer.verify(REGISTERED_PURPOSE, marker, {
    maxAgeMs: config.activationMaxAgeMs,
    now: clock.now(),
  });
  return res.ok && typeof res.payload.sub === "string" ? res.payload.sub : null;
}

/** The account is active: the marker has done its job. */
export function forgetRegisteringBrowser(
  c: AppContext,
  config: AppDeps["config"],
): void {
  clearCookie(c, config, REGISTERED_COOKIE);
}
