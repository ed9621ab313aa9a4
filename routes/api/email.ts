// JSON: ask to move the signed-in account to a new address, and confirm it
// with the token mailed there. The same schema and services as the pages.
import { Hono } from "hono";
import type { AppDeps } from "../../lib/app/deps.ts";
import { ActivatePasswordSchema } from "../../lib/accounts/accounts.ts";
import {
  confirmEmailChange,
  type ConfirmProof,
} from "../../lib/accounts/email_change.ts";
import { ActivateApiSchema } from "../../lib/accounts/schemas.ts";
import {
  accepted,
  apiError,
  apiHashTurnRefused,
  apiTooMany,
  publicUser,
  tokenError,
} from "../../lib/web/api.ts";
import {
  askEmailChange,
  ChangeEmailSchema,
} from "../../lib/web/email_change_request.ts";
import { withHashTurn } from "../../lib/web/hash_turns.ts";
import type { AppEnv } from "../../lib/web/http.ts";
import { readJson } from "../../lib/web/input.ts";
import { requestClient } from "../../lib/web/request_limits.tsx";

export function emailApi(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post("/change", async (c) => {
    const user = c.get("user");
    if (!user) return apiError(c, "unauthenticated", "api.unauthenticated");
    const input = await readJson(c, ChangeEmailSchema);
    const res = await askEmailChange(deps, c, user, input);
    if (!res.ok) {
      switch (res.reason) {
        case "fields":
          return apiError(
            c,
            "validation_failed",
            "register.errors_title",
            res.errors,
          );
        case "limited":
          return apiTooMany(c, res.retryAfterMs);
        case "busy":
          return apiHashTurnRefused(c, res);
        case "retry":
          return apiError(c, "unavailable", "register.retry");
      }
    }
    // 202 whether the address is free or taken.
    return accepted(c, "api.email_change_accepted");
  });

  app.post("/confirm", async (c) => {
    const { token } = await readJson(c, ActivateApiSchema);
    // Signed in to the account, the token is enough; otherwise the
    // account's password too (see ConfirmProof).
    let proof: ConfirmProof = { signedInAs: c.get("user")?.id ?? null };
    const body: Record<string, unknown> = await c.req.json();
    if ("current_password" in body) {
      const current = await readJson(c, ActivatePasswordSchema);
      proof = { password: current.current_password };
    }
    const res = await withHashTurn(
      deps,
      c,
      "password" in proof ? { link: token } : null,
      () =>
        confirmEmailChange(deps, token, proof, requestClient(c, deps.config)),
    );
    if (!res.ok && "retryAfterMs" in res) return apiHashTurnRefused(c, res);
    if (!res.ok) {
      switch (res.reason) {
        case "password_required":
          return apiError(
            c,
            "password_required",
            "email_confirm.password_body",
            {
              current_password: res.wrong
                ? "current_password.wrong"
                : "current_password.required",
            },
          );
        case "taken":
          // Only the new mailbox's holder (who has the token) learns this.
          return apiError(c, "email_taken", "email_confirm.taken_body");
        case "retry":
          return apiError(c, "unavailable", "register.retry");
        default:
          return apiError(
            c,
            tokenError(res.reason),
            `email_confirm.${res.reason}_body`,
          );
      }
    }
    c.header("Cache-Control", "no-store");
    return c.json({ user: publicUser(res.user) });
  });

  return app;
}
