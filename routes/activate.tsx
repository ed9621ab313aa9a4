// /activate/<token>. Mail scanners open links before people do, so a GET only
// shows a one-button page (which submits itself in the browser that
// registered); the POST activates and signs the person in.
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { Layout } from "../components/Layout.tsx";
import { checkInboxHandler, Message } from "../components/Message.tsx";
import { NewPasswordFields } from "../components/NewPasswordFields.tsx";
import { ResendForm } from "../components/ResendForm.tsx";
import { activateAccount, checkActivationLink } from "../lib/accounts.ts";
import type { AppDeps } from "../lib/deps.ts";
import {
  type AppContext,
  type AppEnv,
  clearCookie,
  FORM_TYPE,
  maskEmail,
  pageInfo,
  readForm,
  REGISTERED_COOKIE,
  renderPage,
  setSessionCookie,
} from "../lib/http.ts";
import { requestMail } from "../lib/mail_requests.ts";
import { tooManyPage } from "../lib/request_limits.tsx";
import {
  EmailOnlySchema,
  type FieldErrors,
  fieldErrors,
  ResetPasswordSchema,
} from "../lib/schemas.ts";
import { needsNewPassword, registrantOf, type User } from "../lib/users.ts";
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

  /** Who this browser registered as (its "registered" cookie), or null. */
  async function registrantHere(c: AppContext): Promise<string | null> {
    const marker = getCookie(c, REGISTERED_COOKIE);
    if (!marker) return null;
    const res = await signer.verify(REGISTERED_PURPOSE, marker, {
      maxAgeMs: config.activationMaxAgeMs,
      now: clock.now(),
    });
    return res.ok && typeof res.payload.sub === "string"
      ? res.payload.sub
      : null;
  }

  /**
   * A contested address (registered more than once while pending) activates
   * only with a password chosen here, by whoever holds the mailbox.
   */
  function choosePasswordPage(
    c: AppContext,
    token: string,
    user: User,
    errors: FieldErrors = {},
  ) {
    const page = pageInfo(c, config);
    const { t } = page;
    return renderPage(
      c,
      <Layout page={page} title={t("activate.title")}>
        <h1>{t("activate.title")}</h1>
        <p>{t("activate.choose_body", { email: maskEmail(user.email) })}</p>
        <form method="post" action={`/activate/${token}`} novalidate>
          <NewPasswordFields t={t} errors={errors} />
          <button type="submit" class="primary">
            {t("activate.choose_submit")}
          </button>
        </form>
      </Layout>,
      Object.keys(errors).length ? 422 : 200,
    );
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
    if (!res.ok) return tooManyPage(c, config, res.retryAfterMs);
    // The same answer whether or not a mail is due: nothing to enumerate.
    return c.redirect("/activate/sent", 303);
  });

  app.get(
    "/sent",
    checkInboxHandler(
      config,
      { title: "resend.sent_title", body: "resend.sent_body" },
      { hours: Math.round(config.activationMaxAgeMs / 3_600_000) },
    ),
  );

  app.get("/:token", async (c) => {
    const token = c.req.param("token");
    const link = await checkActivationLink(deps, token);
    if (!link.ok) {
      if (link.reason === "already_active") {
        return c.redirect(config.redirectIfAlreadyActive, 303);
      }
      return badLink(c, link.reason);
    }
    const registrant = await registrantHere(c);
    if (needsNewPassword(link.user, registrant)) {
      return choosePasswordPage(c, token, link.user);
    }
    const auto = registrant === registrantOf(link.user);
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
    const token = c.req.param("token");
    const registrant = await registrantHere(c);
    // The one-button form sends no fields; the choose-a-password form does.
    const form = FORM_TYPE.test(c.req.header("content-type") ?? "")
      ? await readForm(c)
      : {};
    // Sent where nothing asks for them, the fields are ignored (see
    // activateAccount); where a password is required, wrong ones come back.
    let newPassword: string | undefined;
    let errors: FieldErrors = {};
    if ("password" in form || "password_confirm" in form) {
      const parsed = ResetPasswordSchema.safeParse(form);
      if (parsed.success) newPassword = parsed.data.password;
      else errors = fieldErrors(parsed.error);
    }
    const res = await activateAccount(deps, token, { registrant, newPassword });
    if (res.ok) {
      setSessionCookie(c, config, res.session.token);
      clearCookie(c, config, REGISTERED_COOKIE, "/activate");
      return c.redirect(config.redirectAfterActivation, 303);
    }
    if (res.reason === "already_active") {
      return c.redirect(config.redirectIfAlreadyActive, 303);
    }
    if (res.reason === "password_required") {
      return choosePasswordPage(c, token, res.user, errors);
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
