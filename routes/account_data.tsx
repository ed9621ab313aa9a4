// /account/export downloads everything stored about the person;
// /account/delete asks for the password and mails a link, and
// /account/delete/<token> (GET shows a page, POST confirms, as activation
// does) deletes the account and everything naming it.
// Long by design: the route builder holds this flow's handlers, each short
// (see README, Project layout).
import { Hono } from "hono";
import { CurrentPasswordField, ErrorSummary } from "../components/Field.tsx";
import { checkInboxHandler, Message } from "../components/Message.tsx";
import {
  checkDeletionLink,
  confirmAccountDeletion,
} from "../lib/accounts/deletion.ts";
import { exportFileName, exportPersonalData } from "../lib/accounts/export.ts";
import { deliverSoon } from "../lib/accounts/accounts.ts";
import {
  askAccountDeletion,
  DeleteAccountSchema,
} from "../lib/web/deletion_requests.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import {
  type AppContext,
  type AppEnv,
  clearCookie,
  SESSION_COOKIE,
} from "../lib/web/http.ts";
import {
  hashTurnRefusedPage,
  limitRequest,
  retryLaterPage,
  tooManyPage,
} from "../lib/web/request_limits.tsx";
import { type FieldErrors, fieldErrors } from "../lib/accounts/schemas.ts";
import { readForm } from "../lib/web/input.ts";
import type { Translate } from "../lib/i18n/i18n.ts";

function DeletePage(
  { t, email, errors = {} }: {
    t: Translate;
    email: string;
    errors?: FieldErrors;
  },
) {
  return (
    <>
      <h1>{t("delete.title")}</h1>
      <p class="lead">{t("delete.intro", { email })}</p>
      <ErrorSummary t={t} title={t("register.errors_title")} errors={errors} />
      <form method="post" action="/account/delete" novalidate>
        <CurrentPasswordField
          t={t}
          label={t("account.current_password")}
          error={errors.current_password}
        />
        <button type="submit" class="primary">{t("delete.submit")}</button>
      </form>
      <p class="aside">
        <a href="/account">{t("delete.cancel")}</a>
      </p>
    </>
  );
}

export function accountDataRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  // Links with a token: never cached, never a Referer.
  app.use("/delete/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
  });

  app.get("/export", async (c) => {
    const user = c.get("user");
    if (!user) return c.redirect("/login", 303);
    // Per client (RATE_LIMIT_IP): an export reads whole tables.
    const limited = await limitRequest(deps, c, "export");
    if (!limited.ok) return tooManyPage(c, limited.retryAfterMs);
    const now = deps.clock.now();
    const data = await exportPersonalData(deps.kv, user, now);
    c.header("Cache-Control", "no-store");
    c.header(
      "Content-Disposition",
      `attachment; filename="${exportFileName(config.appName, now)}"`,
    );
    return c.json(data);
  });

  app.get("/delete", (c) => {
    const user = c.get("user");
    if (!user) return c.redirect("/login", 303);
    const t = c.get("t");
    return c.render(<DeletePage t={t} email={user.email} />, {
      title: t("delete.title"),
    });
  });

  app.post("/delete", async (c) => {
    const user = c.get("user");
    if (!user) return c.redirect("/login", 303);
    const t = c.get("t");
    const again = (errors: FieldErrors) =>
      c.render(<DeletePage t={t} email={user.email} errors={errors} />, {
        title: t("delete.title"),
        status: 422,
      });
    const parsed = DeleteAccountSchema.safeParse(await readForm(c));
    if (!parsed.success) return again(fieldErrors(parsed.error));
    const res = await askAccountDeletion(
      deps,
      c,
      user,
      parsed.data.current_password,
    );
    if (res.ok) return c.redirect("/account/delete/sent", 303);
    switch (res.reason) {
      case "wrong_password":
        return again({ current_password: "current_password.wrong" });
      case "limited":
        return tooManyPage(c, res.retryAfterMs);
      case "busy":
        return hashTurnRefusedPage(c, res);
      case "retry":
        return retryLaterPage(c);
    }
  });

  app.get(
    "/delete/sent",
    checkInboxHandler(
      config,
      { title: "delete.sent_title", body: "delete.sent_body" },
      {},
    ),
  );

  function badLink(c: AppContext, reason: "invalid" | "expired") {
    const t = c.get("t");
    const title = t(`delete.${reason}_title`);
    return c.render(
      <Message title={title} body={t(`delete.${reason}_body`)} />,
      { title, status: 400 },
    );
  }

  // Mail scanners open links first: the GET changes nothing.
  app.get("/delete/:token", async (c) => {
    const token = c.req.param("token");
    const link = await checkDeletionLink(deps, token);
    if (!link.ok) return badLink(c, link.reason);
    const t = c.get("t");
    return c.render(
      <>
        <h1>{t("delete.confirm_title")}</h1>
        <p class="lead">
          {t("delete.confirm_body", { email: link.user.email })}
        </p>
        <form method="post" action={`/account/delete/${token}`}>
          <button type="submit" class="primary">
            {t("delete.confirm_submit")}
          </button>
        </form>
        <p class="aside">
          <a href="/account">{t("delete.cancel")}</a>
        </p>
      </>,
      { title: t("delete.confirm_title") },
    );
  });

  app.post("/delete/:token", async (c) => {
    const res = await confirmAccountDeletion(deps, c.req.param("token"));
    if (!res.ok) {
      return res.reason === "retry"
        ? retryLaterPage(c)
        : badLink(c, res.reason);
    }
    deliverSoon(deps, res.outboxId);
    // Every session is gone with the account; this browser forgets its own.
    if (c.get("user")?.id === res.user.id) {
      clearCookie(c, config, SESSION_COOKIE);
    }
    return c.redirect("/account/deleted", 303);
  });

  app.get("/deleted", (c) => {
    const t = c.get("t");
    return c.render(
      <Message title={t("delete.done_title")} body={t("delete.done_body")}>
        <p>
          <a href="/register">{t("nav.register")}</a>
        </p>
      </Message>,
      { title: t("delete.done_title") },
    );
  });

  return app;
}
