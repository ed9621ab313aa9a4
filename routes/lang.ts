// POST /lang: the footer's language switcher. Sets the `lang` cookie (which
// the language detector reads before Accept-Language) and goes back.
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { isLocalPath } from "../lib/app/env.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import { type AppEnv } from "../lib/web/http.ts";
import { readForm } from "../lib/web/input.ts";

const YEAR_S = 365 * 86_400;

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
    // Back to where the switcher was, if that is a path on this site.
    return c.redirect(
      form.next && isLocalPath(form.next) ? form.next : "/",
      303,
    );
  });
  return app;
}
