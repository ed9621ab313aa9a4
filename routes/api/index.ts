// The JSON API under /api (documented in docs/api.md).
import { Hono } from "hono";
import type { AppDeps } from "../../lib/app/deps.ts";
import type { AppEnv } from "../../lib/web/http.ts";
import { accountApi } from "./accounts.ts";
import { accountDataApi } from "./account_data.ts";
import { apiError, sameSiteOnly } from "../../lib/web/api.ts";
import { emailApi } from "./email.ts";
import { passwordApi } from "./password.ts";
import { sessionsApi } from "./sessions.ts";

export function apiRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use(sameSiteOnly(deps.config));
  app.route("/", accountApi(deps));
  app.route("/password", passwordApi(deps));
  app.route("/sessions", sessionsApi(deps));
  app.route("/account", accountDataApi(deps));
  app.route("/email", emailApi(deps));
  app.all("*", (c) => apiError(c, "not_found", "error.not_found_body"));
  return app;
}
