// JSON: ask for a reset link, and use one.
import { Hono } from "hono";
import type { AppDeps } from "../../lib/app/deps.ts";
import { type AppEnv, setSessionCookie } from "../../lib/web/http.ts";
import { withHashTurn } from "../../lib/web/hash_turns.ts";
import { requestMail } from "../../lib/web/mail_requests.ts";
import { resetPassword } from "../../lib/accounts/password_reset.ts";
import {
  EmailOnlySchema,
  ResetPasswordApiSchema,
} from "../../lib/accounts/schemas.ts";
import { deleteSession } from "../../lib/accounts/sessions.ts";
import { requestClient } from "../../lib/web/request_limits.tsx";
import {
  accepted,
  apiError,
  apiHashTurnRefused,
  apiTooMany,
  publicUser,
  tokenError,
} from "../../lib/web/api.ts";
import { readJson } from "../../lib/web/input.ts";

export function passwordApi(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post("/forgot", async (c) => {
    const input = await readJson(c, EmailOnlySchema);
    const res = await requestMail(deps, c, "forgot", input.email);
    if (!res.ok) return apiTooMany(c, res.retryAfterMs);
    return accepted(c, "api.forgot_accepted");
  });

  app.post("/reset", async (c) => {
    const input = await readJson(c, ResetPasswordApiSchema);
    const { token, ...passwords } = input;
    const res = await withHashTurn(
      deps,
      c,
      { link: token },
      () =>
        resetPassword(deps, token, passwords, requestClient(c, deps.config)),
    );
    if (!res.ok && "retryAfterMs" in res) return apiHashTurnRefused(c, res);
    if (!res.ok) {
      switch (res.reason) {
        case "fields":
          return apiError(
            c,
            "validation_failed",
            "register.errors_title",
            res.errors,
          );
        case "retry":
          return apiError(c, "unavailable", "register.retry");
        default:
          return apiError(
            c,
            tokenError(res.reason),
            `reset.${res.reason}_body`,
          );
      }
    }
    const old = c.get("session");
    if (old) await deleteSession(deps.kv, old.idHash);
    setSessionCookie(c, deps.config, res.session.token);
    return c.json({ user: publicUser(res.user) });
  });

  return app;
}
