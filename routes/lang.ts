// POST /lang: the footer's language switcher. Sets the `lang` cookie (which
// the language detector reads before Accept-Language) and goes back.
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import type { AppDeps } from "../lib/app/deps.ts";
import { type AppEnv, readForm } from "../lib/web/http.ts";

const YEAR_S = 365 * 86_400;

/**
 * Only a path on this site: never `//evil.example` or `https://…`. Control
 * characters are refused outright: browsers drop tabs and newlines from a
 * URL, so "/<TAB>/evil.example" would arrive as "//evil.example".
 */
function safeNext(next: string | undefined): string {
  // deno-lint-ignore no-control-regex
  const control = /[\x00-\x1f\x7f]/;
  return next && /^\/(?![/\\])/.test(next) && !control.test(next) ? next : "/";
}

export function langRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post("/", async (c) => {
    const form = await readForm(c);
    if (form.lang && deps.i18n.has(form.lang)) {
      setCookie(c, "lang", form.lang, {
        path: "/",
        sameSite: "Lax",
        secure: deps.config.secureCookies,
        maxAge: YEAR_S,
      });
    }
    return c.redirect(safeNext(form.next), 303);
  });
  return app;
}
