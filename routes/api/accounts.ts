// JSON: register, activate, resend, log in and out, who am I. The same zod
// schemas and services as the pages; only the answers' shape differs.
// Long by design: the route builder holds this flow's handlers, each short
// (see README, Project layout).
import { Hono } from "hono";
import {
  activateAccount,
  ActivatePasswordSchema,
  deliverSoon,
  registerAccount,
} from "../../lib/accounts/accounts.ts";
import { signIn } from "../../lib/accounts/sign_in.ts";
import type { AppDeps } from "../../lib/app/deps.ts";
import {
  type AppEnv,
  clearCookie,
  SESSION_COOKIE,
  setSessionCookie,
} from "../../lib/web/http.ts";
import { withHashTurn } from "../../lib/web/hash_turns.ts";
import { requestMail } from "../../lib/web/mail_requests.ts";
import {
  clientIp,
  clientKey,
  countLoginFailure,
  limitRequest,
  requestClient,
  retryAfterSeconds,
} from "../../lib/web/request_limits.tsx";
import {
  ActivateApiSchema,
  EmailOnlySchema,
  LoginSchema,
  RegisterSchema,
  ResetPasswordApiSchema,
} from "../../lib/accounts/schemas.ts";
import { deleteSession } from "../../lib/accounts/sessions.ts";
import {
  accepted,
  apiError,
  apiHashTurnRefused,
  apiTooMany,
  publicUser,
  tokenError,
} from "../../lib/web/api.ts";
import { readJson } from "../../lib/web/input.ts";

export function accountApi(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post("/register", async (c) => {
    const input = await readJson(c, RegisterSchema);
    const limited = await limitRequest(deps, c, "register", input.email);
    if (!limited.ok) return apiTooMany(c, limited.retryAfterMs);
    const res = await registerAccount(deps, input, c.get("language"));
    if (!res.ok) return apiError(c, "unavailable", "register.retry");
    deliverSoon(deps, res.outboxId);
    return accepted(c, "api.register_accepted");
  });

  app.post("/activate", async (c) => {
    const input = await readJson(c, ActivateApiSchema);
    // No browser registered through the API, so the client proves it may
    // activate: the account's password, or a new one (see activationNeeds).
    const body: Record<string, unknown> = await c.req.json();
    let newPassword: string | undefined;
    let currentPassword: string | undefined;
    if ("password" in body || "password_confirm" in body) {
      const pair = await readJson(c, ResetPasswordApiSchema);
      newPassword = pair.password;
    } else if ("current_password" in body) {
      const current = await readJson(c, ActivatePasswordSchema);
      currentPassword = current.current_password;
    }
    const token = input.token;
    const res = await withHashTurn(
      deps,
      c,
      newPassword || currentPassword ? { link: token } : null,
      () =>
        activateAccount(deps, token, {
          currentPassword,
          newPassword,
          client: requestClient(c, deps.config),
          // Whatever this client was signed in to ends in the same commit.
          endSession: c.get("session") ?? undefined,
        }),
    );
    if (!res.ok && "retryAfterMs" in res) return apiHashTurnRefused(c, res);
    if (res.ok) {
      setSessionCookie(c, deps.config, res.session.token);
      return c.json({ user: publicUser(res.user) });
    }
    switch (res.reason) {
      case "already_active":
        // Only the token's holder learns this; no address is revealed.
        return apiError(c, "already_active", "login.activated");
      case "password_required":
        return apiError(
          c,
          "password_required",
          "activate.password_required",
          res.wrong
            ? { current_password: "activate.wrong_password" }
            : res.needs === "password"
            ? {
              current_password: "current_password.required",
              password: "password.required",
            }
            : { password: "password.required" },
        );
      case "retry":
        return apiError(c, "unavailable", "activate.retry");
      default:
        return apiError(
          c,
          tokenError(res.reason),
          `activate.${res.reason}_body`,
        );
    }
  });

  app.post("/activation/resend", async (c) => {
    const input = await readJson(c, EmailOnlySchema);
    const res = await requestMail(deps, c, "resend", input.email);
    if (!res.ok) return apiTooMany(c, res.retryAfterMs);
    // Worked out from the limits alone, never from the account, so it is
    // the same for every address (the ResendButton island counts it down).
    return accepted(c, "api.resend_accepted", {
      retry_after: retryAfterSeconds(res.waitMs),
    });
  });

  app.post("/login", async (c) => {
    const input = await readJson(c, LoginSchema);
    const limited = await limitRequest(deps, c, "login", input.email);
    if (!limited.ok) return apiTooMany(c, limited.retryAfterMs);
    const res = await signIn(
      deps,
      input,
      clientKey(clientIp(c, deps.config.trustedProxyHops)),
      requestClient(c, deps.config),
    );
    if (!res.ok) {
      switch (res.reason) {
        case "throttled":
          return apiTooMany(c, res.retryAfterMs);
        // A pending account too: see signIn.
        case "failed":
          await countLoginFailure(deps, c, input.email);
          return apiError(c, "invalid_credentials", "login.failed");
        // Said only to someone who gave the right password.
        case "inactive":
          return apiError(c, "account_disabled", "login.inactive");
        case "retry":
          return apiError(c, "unavailable", "register.retry");
      }
    }
    const old = c.get("session");
    if (old) await deleteSession(deps.kv, old.idHash);
    setSessionCookie(c, deps.config, res.session.token);
    return c.json({ user: publicUser(res.user) });
  });

  app.post("/logout", async (c) => {
    const session = c.get("session");
    if (session) await deleteSession(deps.kv, session.idHash);
    clearCookie(c, deps.config, SESSION_COOKIE);
    return c.body(null, 204);
  });

  app.get("/me", (c) => {
    const user = c.get("user");
    c.header("Cache-Control", "no-store");
    if (!user) {
      return apiError(c, "unauthenticated", "api.unauthenticated");
    }
    return c.json({ user: publicUser(user) });
  });

  return app;
}
