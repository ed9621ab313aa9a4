// "Your password is changed", "Session ended": a notice for the next
// /account page only. A cookie the page reads and deletes, so a reload does
// not announce it again (a ?password=changed query did). Every page that
// sends the person to /account with news sets it here.
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "../app/config.ts";
import type { AppContext } from "./http.ts";

const NOTICES = {
  activated: "account.activated",
  reset: "account.password_reset",
  changed: "account.password_changed",
  session_ended: "sessions.ended",
  others_ended: "sessions.others_ended",
  email_changed: "account.email_changed",
  email_restored: "account.email_restored",
} as const;

const NOTICE_COOKIE = "account_notice";

export function setAccountNotice(
  c: AppContext,
  config: Config,
  notice: keyof typeof NOTICES,
): void {
  setCookie(c, NOTICE_COOKIE, notice, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/account",
    secure: config.secureCookies,
    maxAge: 60,
  });
}

export function takeAccountNotice(
  c: AppContext,
  config: Config,
): string | undefined {
  const name = getCookie(c, NOTICE_COOKIE);
  if (name === undefined) return undefined;
  deleteCookie(c, NOTICE_COOKIE, {
    path: "/account",
    secure: config.secureCookies,
  });
  return Object.hasOwn(NOTICES, name)
    ? NOTICES[name as keyof typeof NOTICES]
    : undefined;
}
