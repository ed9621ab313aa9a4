// /account: who is signed in, and a password change that ends every other
// session. Without a session it sends people to /login.
// Long by design: the route builder holds this flow's handlers, each short
// (see README, Project layout).
import { Hono } from "hono";
import { AuditList } from "../components/ClientInfo.tsx";
import { listAuditEvents } from "../lib/accounts/audit.ts";
import { CurrentPasswordField, ErrorSummary } from "../components/Field.tsx";
import { NewPasswordFields } from "../components/NewPasswordFields.tsx";
import { LimitNotice, SubmitButton } from "../components/LimitNotice.tsx";
import type { AppDeps } from "../lib/app/deps.ts";
import { setAccountNotice, takeAccountNotice } from "../lib/web/notices.ts";
import { type AppContext, type AppEnv } from "../lib/web/http.ts";
import { readForm } from "../lib/web/input.ts";
import { changePassword } from "../lib/accounts/password_reset.ts";
import { withHashTurn } from "../lib/web/hash_turns.ts";
import {
  countLoginFailure,
  hashTurnRefusedPage,
  limitedSeconds,
  limitRequest,
  requestClient,
} from "../lib/web/request_limits.tsx";
import {
  ChangePasswordSchema,
  type FieldErrors,
  fieldErrors,
} from "../lib/accounts/schemas.ts";
import { getUser, type User } from "../lib/accounts/users.ts";

/** Security events the account page shows, newest first. */
const AUDIT_EVENTS_SHOWN = 10;

export function accountRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  async function accountPage(
    c: AppContext,
    user: User,
    errors: FieldErrors = {},
    status: 200 | 422 | 429 | 503 = 200,
    /** After a 429: the same form, saying how long to wait. */
    waitSeconds?: number,
  ) {
    const events = await listAuditEvents(deps.kv, user.id, {
      limit: AUDIT_EVENTS_SHOWN,
    });
    c.header("Cache-Control", "no-store");
    const t = c.get("t");
    const lang = c.get("language");
    const activatedAt = user.activatedAt
      ? new Intl.DateTimeFormat(lang, {
        dateStyle: "long",
        timeStyle: "short",
        timeZone: "UTC",
      }).format(user.activatedAt) + " UTC"
      : "—";
    const notice = status === 200 ? takeAccountNotice(c, config) : undefined;
    return c.render(
      <>
        <h1>{t("account.greeting", { name: user.firstName })}</h1>
        {notice && <p class="notice success" role="status">{t(notice)}</p>}
        <dl class="facts">
          <dt>{t("account.first_name")}</dt>
          <dd data-testid="first-name">{user.firstName}</dd>
          <dt>{t("account.email")}</dt>
          <dd>
            {user.email}{" "}
            <a href="/account/email">{t("account.change_email")}</a>
          </dd>
          <dt>{t("account.activated_at")}</dt>
          <dd>{activatedAt}</dd>
        </dl>
        <section aria-labelledby="change-password-title">
          <h2 id="change-password-title">{t("account.change_password")}</h2>
          <p>{t("account.change_password_intro")}</p>
          <ErrorSummary
            t={t}
            title={t("register.errors_title")}
            errors={errors}
          />
          {waitSeconds !== undefined && (
            <LimitNotice t={t} lang={lang} seconds={waitSeconds} />
          )}
          <form method="post" action="/account/password" novalidate>
            <CurrentPasswordField
              t={t}
              label={t("account.current_password")}
              error={errors.current_password}
            />
            <NewPasswordFields
              t={t}
              errors={errors}
              personal={[user.firstName, user.email]}
            />
            <SubmitButton
              t={t}
              label={t("account.change_password_submit")}
              waitSeconds={waitSeconds}
            />
          </form>
        </section>
        <section aria-labelledby="sessions-title">
          <h2 id="sessions-title">{t("sessions.title")}</h2>
          <p>
            <a href="/account/sessions">{t("account.manage_sessions")}</a>
          </p>
        </section>
        <section aria-labelledby="audit-title">
          <h2 id="audit-title">{t("audit.title")}</h2>
          <AuditList t={t} lang={lang} events={events} />
        </section>
        <section aria-labelledby="your-data-title">
          <h2 id="your-data-title">{t("account.your_data")}</h2>
          <p>{t("account.your_data_intro")}</p>
          <ul class="actions">
            <li>
              <a href="/account/export" download>{t("account.export")}</a>
            </li>
            <li>
              <a href="/account/delete">{t("account.delete")}</a>
            </li>
          </ul>
        </section>
      </>,
      { title: t("account.title"), status },
    );
  }

  app.get("/", (c) => {
    const user = c.get("user");
    if (!user) return c.redirect("/login", 303);
    return accountPage(c, user);
  });

  // Where the language switcher returns after a failed change.
  app.get("/password", (c) => c.redirect("/account", 303));

  app.post("/password", async (c) => {
    const user = c.get("user");
    const session = c.get("session");
    if (!user || !session) return c.redirect("/login", 303);
    const parsed = ChangePasswordSchema.safeParse(await readForm(c));
    if (!parsed.success) {
      return accountPage(c, user, fieldErrors(parsed.error), 422);
    }
    // Checking the current password is a sign-in attempt: a borrowed session
    // must not get unlimited guesses at it.
    const limited = await limitRequest(deps, c, "login", user.email);
    const limitedPage = (ms: number) =>
      accountPage(c, user, {}, 429, limitedSeconds(c, ms));
    if (!limited.ok) return limitedPage(limited.retryAfterMs);
    // One change (a verify and a hash) at a time per account.
    const res = await withHashTurn(
      deps,
      c,
      { account: user.id },
      async () => {
        // Read again inside the turn: a change that finished a moment ago
        // has replaced the hash this request's session read at its start.
        const current = await getUser(deps.kv, user.id, deps.clock.now());
        if (!current) return { ok: false as const, reason: "retry" as const };
        return changePassword(
          deps,
          current,
          session.idHash,
          parsed.data,
          requestClient(c, config),
        );
      },
    );
    if (!res.ok && "retryAfterMs" in res) {
      return res.reason === "limited"
        ? limitedPage(res.retryAfterMs)
        : hashTurnRefusedPage(c, res);
    }
    if (!res.ok && res.reason === "fields" && res.errors.current_password) {
      await countLoginFailure(deps, c, user.email);
    }
    if (!res.ok) {
      return res.reason === "fields"
        ? accountPage(c, user, res.errors, 422)
        : accountPage(c, user, { _form: "register.retry" }, 503);
    }
    setAccountNotice(c, config, "changed");
    return c.redirect("/account", 303);
  });

  return app;
}
