// JSON: the signed-in person's sessions; end one, or every other. The same
// services as /account/sessions.
import { Hono } from "hono";
import {
  endOtherSessions,
  endSession,
  type ListedSession,
  listUserSessions,
} from "../../lib/accounts/account_sessions.ts";
import type { AppDeps } from "../../lib/app/deps.ts";
import { UNKNOWN_CLIENT } from "../../lib/accounts/devices.ts";
import {
  type AppContext,
  type AppEnv,
  clearCookie,
  SESSION_COOKIE,
} from "../../lib/web/http.ts";
import { requestClient } from "../../lib/web/request_limits.tsx";
import { apiError } from "../../lib/web/api.ts";

/** A session as the API shows it to its owner. */
function publicSession({ id, session, current }: ListedSession) {
  const client = session.client ?? UNKNOWN_CLIENT;
  return {
    id,
    current,
    browser: client.browser,
    os: client.os,
    address: client.address,
    created_at: new Date(session.createdAt).toISOString(),
    last_used_at: new Date(session.lastUsedAt ?? session.createdAt)
      .toISOString(),
  };
}

function signedIn(c: AppContext) {
  const user = c.get("user");
  const session = c.get("session");
  return user && session ? { user, session } : null;
}

function unauthenticated(c: AppContext) {
  return apiError(c, "unauthenticated", "api.unauthenticated");
}

export function sessionsApi(deps: AppDeps) {
  const { kv, clock, config } = deps;
  const app = new Hono<AppEnv>();

  app.get("/", async (c) => {
    const me = signedIn(c);
    if (!me) return unauthenticated(c);
    const sessions = await listUserSessions(
      kv,
      me.user,
      clock.now(),
      me.session.idHash,
    );
    c.header("Cache-Control", "no-store");
    return c.json({ sessions: sessions.map(publicSession) });
  });

  app.post("/revoke-others", async (c) => {
    const me = signedIn(c);
    if (!me) return unauthenticated(c);
    const ended = await endOtherSessions(kv, me.user, me.session.idHash, {
      now: clock.now(),
      client: requestClient(c, config),
    });
    c.header("Cache-Control", "no-store");
    return c.json({ ended });
  });

  app.delete("/:id", async (c) => {
    const me = signedIn(c);
    if (!me) return unauthenticated(c);
    const id = c.req.param("id");
    const res = await endSession(kv, me.user, id, {
      now: clock.now(),
      client: requestClient(c, config),
    });
    if (!res.ok) {
      return res.reason === "retry"
        ? apiError(c, "unavailable", "register.retry")
        : apiError(c, "not_found", "sessions.not_found");
    }
    // Ending this client's own session is signing out.
    if (id === me.session.idHash) clearCookie(c, config, SESSION_COOKIE);
    return c.body(null, 204);
  });

  return app;
}
