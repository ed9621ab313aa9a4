// /account/sessions: every signed-in session of the account, this device
// marked; end one, or every other. Plain forms, no JavaScript needed.
// Long by design: the route builder holds this flow's handlers, each short
// (see README, Project layout).
import { Hono } from "hono";
import {
  addressLabel,
  deviceLabel,
  formatWhen,
} from "../components/ClientInfo.tsx";
import {
  endOtherSessions,
  endSession,
  listUserSessions,
} from "../lib/accounts/account_sessions.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import {
  type AppContext,
  type AppEnv,
  clearCookie,
  SESSION_COOKIE,
} from "../lib/web/http.ts";
import { readForm } from "../lib/web/input.ts";
import { requestClient } from "../lib/web/request_limits.tsx";
import { UNKNOWN_CLIENT } from "../lib/accounts/devices.ts";
import type { User } from "../lib/accounts/users.ts";
import { setAccountNotice, takeAccountNotice } from "../lib/web/notices.ts";

export function sessionRoutes(deps: AppDeps) {
  const { config, kv, clock } = deps;
  const app = new Hono<AppEnv>();

  async function sessionsPage(
    c: AppContext,
    user: User,
    currentId: string,
    problem?: { key: string; status: 404 | 503 },
  ) {
    c.header("Cache-Control", "no-store");
    const t = c.get("t");
    const lang = c.get("language");
    const sessions = await listUserSessions(kv, user, clock.now(), currentId);
    const notice = problem ? undefined : takeAccountNotice(c, config);
    const others = sessions.filter((s) => !s.current).length;
    return c.render(
      <>
        <h1>{t("sessions.title")}</h1>
        <p>{t("sessions.intro")}</p>
        {notice && <p class="notice success" role="status">{t(notice)}</p>}
        {problem && <p class="notice" role="alert">{t(problem.key)}</p>}
        <ul class="sessions">
          {sessions.map(({ id, session, current }) => {
            const client = session.client ?? UNKNOWN_CLIENT;
            return (
              <li key={id} data-testid="session">
                <strong>{deviceLabel(t, client)}</strong>
                {current && (
                  <>
                    {" "}
                    <span class="badge">{t("sessions.this_device")}</span>
                  </>
                )}
                <dl class="facts">
                  <dt>{t("sessions.network")}</dt>
                  <dd>{addressLabel(t, client)}</dd>
                  <dt>{t("sessions.signed_in")}</dt>
                  <dd>{formatWhen(lang, session.createdAt)}</dd>
                  <dt>{t("sessions.last_used")}</dt>
                  <dd>
                    {formatWhen(lang, session.lastUsedAt ?? session.createdAt)}
                  </dd>
                </dl>
                {!current && (
                  <form method="post" action="/account/sessions/end">
                    <input type="hidden" name="session" value={id} />
                    <button
                      type="submit"
                      aria-label={t("sessions.end_label", {
                        device: deviceLabel(t, client),
                      })}
                    >
                      {t("sessions.end")}
                    </button>
                  </form>
                )}
              </li>
            );
          })}
        </ul>
        {others > 0 && (
          <form method="post" action="/account/sessions/end-others">
            <button type="submit" class="primary">
              {t("sessions.end_others")}
            </button>
          </form>
        )}
        <p>
          <a href="/account">{t("sessions.back")}</a>
        </p>
      </>,
      { title: t("sessions.title"), status: problem?.status ?? 200 },
    );
  }

  app.get("/", (c) => {
    const user = c.get("user");
    const session = c.get("session");
    if (!user || !session) return c.redirect("/login", 303);
    return sessionsPage(c, user, session.idHash);
  });

  app.post("/end", async (c) => {
    const user = c.get("user");
    const session = c.get("session");
    if (!user || !session) return c.redirect("/login", 303);
    const id = (await readForm(c)).session ?? "";
    const res = await endSession(kv, user, id, {
      now: clock.now(),
      client: requestClient(c, config),
    });
    if (!res.ok) {
      return sessionsPage(
        c,
        user,
        session.idHash,
        res.reason === "retry"
          ? { key: "register.retry", status: 503 }
          : { key: "sessions.not_found", status: 404 },
      );
    }
    // Ending the session this request came with is signing out.
    if (id === session.idHash) {
      clearCookie(c, config, SESSION_COOKIE);
      return c.redirect("/login", 303);
    }
    setAccountNotice(c, config, "session_ended");
    return c.redirect("/account/sessions", 303);
  });

  app.post("/end-others", async (c) => {
    const user = c.get("user");
    const session = c.get("session");
    if (!user || !session) return c.redirect("/login", 303);
    await readForm(c);
    await endOtherSessions(kv, user, session.idHash, {
      now: clock.now(),
      client: requestClient(c, config),
    });
    setAccountNotice(c, config, "others_ended");
    return c.redirect("/account/sessions", 303);
  });

  return app;
}
