// lib/web/ — HTTP glue shared by the pages and the API: the Hono env,
// cookies, forms, the renderer and error pages, security headers, origins,
// the request log, the page cache, rate-limit answers, /healthz's report and
// the slow-client relay. It may import accounts/, outbox/ and below; only
// this file imports routes/ (it mounts them).
//
// Builds the Hono app from its dependencies: the shared middleware
// (routes/_middleware.tsx), each route, and the pages for unknown paths and
// errors (routes/_404.tsx, routes/_500.tsx).
import { Hono } from "hono";
import { accountRoutes } from "../../routes/account.tsx";
import { accountDataRoutes } from "../../routes/account_data.tsx";
import { emailRoutes } from "../../routes/email.tsx";
import { activateRoutes } from "../../routes/activate.tsx";
import { sessionRoutes } from "../../routes/sessions.tsx";
import { loginRoutes, logoutRoutes } from "../../routes/login.tsx";
import { healthzRoutes } from "../../routes/healthz.ts";
import { passwordRoutes } from "../../routes/password.tsx";
import { registerRoutes } from "../../routes/register.tsx";
import { staticRoutes } from "../../routes/static.ts";
import { apiRoutes } from "../../routes/api/index.ts";
import { devMailRoutes } from "../../routes/dev_mail.tsx";
import { langRoutes } from "../../routes/lang.ts";
import { everyRequest, pageRequests } from "../../routes/_middleware.tsx";
import { notFound } from "../../routes/_404.tsx";
import { onError } from "../../routes/_500.tsx";
import type { AppDeps } from "../app/deps.ts";
import type { AppEnv } from "./http.ts";

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const middleware of everyRequest(deps)) app.use(middleware);
  // Before the session is read: a stylesheet costs no KV read.
  app.route("/static", staticRoutes());
  for (const middleware of pageRequests(deps)) app.use(middleware);

  app.get(
    "/",
    (c) => c.redirect(c.get("user") ? "/account" : "/register", 303),
  );
  app.route("/register", registerRoutes(deps));
  app.route("/activate", activateRoutes(deps));
  app.route("/login", loginRoutes(deps));
  app.route("/logout", logoutRoutes(deps));
  app.route("/account/sessions", sessionRoutes(deps));
  app.route("/account/email", emailRoutes(deps));
  app.route("/account", accountRoutes(deps));
  app.route("/account", accountDataRoutes(deps));
  app.route("/password", passwordRoutes(deps));
  app.route("/healthz", healthzRoutes(deps));
  app.route("/api", apiRoutes(deps));
  app.route("/lang", langRoutes(deps));
  if (deps.mailbox) app.route("/dev/mail", devMailRoutes(deps, deps.mailbox));

  app.notFound(notFound);
  app.onError(onError(deps));
  return app;
}
