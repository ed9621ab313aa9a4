// /activate/<token>. Mail scanners open links before people do, so a GET only
// shows a one-button page (which submits itself in the browser that
// registered); the POST activates and signs the person in.
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { Layout } from "../components/Layout.tsx";
import { CheckInboxPage, Message } from "../components/Message.tsx";
import { ResendForm } from "../components/ResendForm.tsx";
import { activateAccount, checkActivationLink } from "../lib/accounts.ts";
import type { AppDeps } from "../lib/deps.ts";
import {
  type AppContext,
  type AppEnv,
  clearCookie,
  maskEmail,
  pageInfo,
  readForm,
  REGISTERED_COOKIE,
  renderPage,
  setSessionCookie,
} from "../lib/http.ts";
import { requestMail } from "../lib/mail_requests.ts";
import { retryLaterPage, tooManyPage } from "../lib/request_limits.tsx";
import { EmailOnlySchema, fieldErrors } from "../lib/schemas.ts";
import { REGISTERED_PURPOSE } from "./register.tsx";

export function activateRoutes(deps: AppDeps) {
  const { config, signer, clock } = deps;
  const app = new Hono<AppEnv>();

  // Pages with the token in their URL: never cached, never sent as Referer.
  app.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
  });

  function badLink(c: AppContext, reason: "invalid" | "expired") {
    const page = pageInfo(c, config);
    const { t } = page;
    const title = t(`activate.${reason}_title`);
    return renderPage(
      c,
      <Layout page={page} title={title}>
        <Message title={title} body={t(`activate.${reason}_body`)} />
        <ResendForm t={t} />
      </Layout>,
      400,
    );
  }

  /** True when this browser registered the account the link is for. */
  async function registeredHere(c: AppContext, userId: string) {
    const marker = getCookie(c, REGISTERED_COOKIE);
    if (!marker) return false;
    const res = await signer.verify(REGISTERED_PURPOSE, marker, {
      maxAgeMs: config.activationMaxAgeMs,
      now: clock.now(),
    });
    return res.ok && res.payload.sub === userId;
  }

  function resendPage(c: AppContext, email?: string, error?: string) {
    const page = pageInfo(c, config);
    return renderPage(
      c,
      <Layout page={page} title={page.t("resend.title")}>
        <ResendForm t={page.t} email={email} error={error} standalone />
      </Layout>,
      error ? 422 : 200,
    );
  }

  // Registered before /:token, which would otherwise take these names.
  app.get("/resend", (c) => resendPage(c));

  app.post("/resend", async (c) => {
    const form = await readForm(c);
    const parsed = EmailOnlySchema.safeParse(form);
    if (!parsed.success) {
      return resendPage(c, form.email, fieldErrors(parsed.error).email);
    }
    const res = await requestMail(deps, c, "resend", parsed.data.email);
    if (!res.ok) {
      return res.reason === "limited"
        ? tooManyPage(c, config, res.retryAfterMs)
        : retryLaterPage(c, config);
    }
    // The same answer whether or not a mail is due: nothing to enumerate.
    return c.redirect("/activate/sent", 303);
  });

  app.get("/sent", (c) => {
    const page = pageInfo(c, config);
    const { t } = page;
    const hours = Math.round(config.activationMaxAgeMs / 3_600_000);
    return renderPage(
      c,
      <CheckInboxPage
        page={page}
        title={t("resend.sent_title")}
        body={t("resend.sent_body", { hours })}
      />,
    );
  });

  app.get("/:token", async (c) => {
    const token = c.req.param("token");
    const link = await checkActivationLink(deps, token);
    if (!link.ok) {
      if (link.reason === "already_active") {
        return c.redirect(config.redirectIfAlreadyActive, 303);
      }
      return badLink(c, link.reason);
    }
    const auto = await registeredHere(c, link.user.id);
    const page = pageInfo(c, config);
    const { t } = page;
    return renderPage(
      c,
      <Layout
        page={page}
        title={t("activate.title")}
        scripts={auto ? ["/static/activate.js"] : undefined}
      >
        <h1>{t("activate.title")}</h1>
        <p>{t("activate.body", { email: maskEmail(link.user.email) })}</p>
        <form
          method="post"
          action={`/activate/${token}`}
          data-auto-submit={auto ? "" : undefined}
        >
          <button type="submit" class="primary">
            {t("activate.submit")}
          </button>
        </form>
        {auto && <p class="aside" aria-live="polite">{t("activate.auto")}</p>}
      </Layout>,
    );
  });

  app.post("/:token", async (c) => {
    const res = await activateAccount(deps, c.req.param("token"));
    if (res.ok) {
      setSessionCookie(c, config, res.session.token);
      clearCookie(c, config, REGISTERED_COOKIE, "/activate");
      return c.redirect(config.redirectAfterActivation, 303);
    }
    if (res.reason === "already_active") {
      return c.redirect(config.redirectIfAlreadyActive, 303);
    }
    if (res.reason === "retry") {
      const page = pageInfo(c, config);
      const { t } = page;
      return renderPage(
        c,
        <Layout page={page} title={t("activate.title")}>
          <Message title={t("activate.title")} body={t("activate.retry")}>
            <form method="post">
              <button type="submit" class="primary">
                {t("activate.submit")}
              </button>
            </form>
          </Message>
        </Layout>,
        503,
      );
    }
    return badLink(c, res.reason);
  });

  return app;
}
