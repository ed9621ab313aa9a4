// /account: who is signed in. Without a session it sends people to /login.
import { Hono } from "hono";
import { Layout } from "../components/Layout.tsx";
import type { AppDeps } from "../lib/deps.ts";
import { type AppEnv, pageInfo, renderPage } from "../lib/http.ts";

export function accountRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  app.get("/", (c) => {
    const user = c.get("user");
    if (!user) return c.redirect("/login", 303);
    c.header("Cache-Control", "no-store");
    const page = pageInfo(c, config);
    const { t, lang } = page;
    const activatedAt = user.activatedAt
      ? new Intl.DateTimeFormat(lang, {
        dateStyle: "long",
        timeStyle: "short",
        timeZone: "UTC",
      }).format(user.activatedAt) + " UTC"
      : "—";
    return renderPage(
      c,
      <Layout page={page} title={t("account.title")}>
        <h1>{t("account.greeting", { name: user.firstName })}</h1>
        <dl class="facts">
          <dt>{t("account.first_name")}</dt>
          <dd data-testid="first-name">{user.firstName}</dd>
          <dt>{t("account.email")}</dt>
          <dd>{user.email}</dd>
          <dt>{t("account.activated_at")}</dt>
          <dd>{activatedAt}</dd>
        </dl>
        <form method="post" action="/logout">
          <button type="submit">{t("nav.logout")}</button>
        </form>
      </Layout>,
    );
  });

  return app;
}
