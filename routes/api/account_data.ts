// JSON: the person's data, and deleting the account (the password, then the
// token from the mailed link). The same services as /account/export and
// /account/delete.
import { Hono } from "hono";
import { confirmAccountDeletion } from "../../lib/accounts/deletion.ts";
import { exportPersonalData } from "../../lib/accounts/export.ts";
import { deliverSoon } from "../../lib/accounts/accounts.ts";
import {
  askAccountDeletion,
  ConfirmDeletionApiSchema,
  DeleteAccountSchema,
} from "../../lib/web/deletion_requests.ts";
import type { AppDeps } from "../../lib/app/deps.ts";
import { limitRequest } from "../../lib/web/request_limits.tsx";
import {
  type AppEnv,
  clearCookie,
  SESSION_COOKIE,
} from "../../lib/web/http.ts";
import {
  accepted,
  apiError,
  apiHashTurnRefused,
  apiTooMany,
  tokenError,
} from "../../lib/web/api.ts";
import { readJson } from "../../lib/web/input.ts";

export function accountDataApi(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get("/export", async (c) => {
    const user = c.get("user");
    if (!user) {
      return apiError(c, "unauthenticated", "api.unauthenticated");
    }
    const limited = await limitRequest(deps, c, "export");
    if (!limited.ok) return apiTooMany(c, limited.retryAfterMs);
    c.header("Cache-Control", "no-store");
    return c.json(await exportPersonalData(deps.kv, user, deps.clock.now()));
  });

  app.post("/delete", async (c) => {
    const user = c.get("user");
    if (!user) {
      return apiError(c, "unauthenticated", "api.unauthenticated");
    }
    const input = await readJson(c, DeleteAccountSchema);
    const res = await askAccountDeletion(
      deps,
      c,
      user,
      input.current_password,
    );
    if (res.ok) return accepted(c, "api.delete_accepted");
    switch (res.reason) {
      case "wrong_password":
        return apiError(c, "validation_failed", "register.errors_title", {
          current_password: "current_password.wrong",
        });
      case "limited":
        return apiTooMany(c, res.retryAfterMs);
      case "busy":
        return apiHashTurnRefused(c, res);
      case "retry":
        return apiError(c, "unavailable", "register.retry");
    }
  });

  // The token is the proof (the password was checked when it was mailed):
  // no session needed, as on the link's page.
  app.post("/delete/confirm", async (c) => {
    const input = await readJson(c, ConfirmDeletionApiSchema);
    const res = await confirmAccountDeletion(deps, input.token);
    if (!res.ok) {
      return res.reason === "retry"
        ? apiError(c, "unavailable", "register.retry")
        : apiError(c, tokenError(res.reason), `delete.${res.reason}_body`);
    }
    deliverSoon(deps, res.outboxId);
    if (c.get("user")?.id === res.user.id) {
      clearCookie(c, deps.config, SESSION_COOKIE);
    }
    c.header("Cache-Control", "no-store");
    return c.json({ status: "deleted", message: c.get("t")("api.deleted") });
  });

  return app;
}
