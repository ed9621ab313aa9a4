// /register: the sign-up form, its POST, and the "check your inbox" page.
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { v7 as uuidv7 } from "uuid";
import { ErrorSummary, Field } from "../components/Field.tsx";
import { Layout } from "../components/Layout.tsx";
import { Message } from "../components/Message.tsx";
import { registerAccount } from "../lib/accounts.ts";
import type { AppDeps } from "../lib/deps.ts";
import {
  type AppEnv,
  type PageInfo,
  pageInfo,
  readForm,
  REGISTERED_COOKIE,
  renderPage,
} from "../lib/http.ts";
import { createPageCache } from "../lib/page_cache.ts";
import { PASSWORD_MAX, PASSWORD_MIN } from "../lib/password_rules.ts";
import {
  type FieldErrors,
  fieldErrors,
  RegisterSchema,
} from "../lib/schemas.ts";

export const REGISTERED_PURPOSE = "registered_browser";
const REGISTERED_COOKIE_MAX_AGE_MS = 24 * 3_600_000;

interface RegisterPageProps {
  values?: { first_name?: string; email?: string };
  errors?: FieldErrors;
}

function RegisterPage(
  { page, values = {}, errors = {} }: RegisterPageProps & { page: PageInfo },
) {
  const { t } = page;
  return (
    <Layout page={page} title={t("register.title")}>
      <h1>{t("register.title")}</h1>
      <p class="lead">{t("register.intro")}</p>
      <ErrorSummary t={t} title={t("register.errors_title")} errors={errors} />
      <form method="post" action="/register" novalidate>
        <Field
          t={t}
          name="first_name"
          label={t("register.first_name")}
          value={values.first_name}
          error={errors.first_name}
          autocomplete="given-name"
          required
          maxLength={150}
        />
        <Field
          t={t}
          name="email"
          type="email"
          label={t("register.email")}
          value={values.email}
          error={errors.email}
          autocomplete="email"
          required
        />
        <Field
          t={t}
          name="password"
          type="password"
          label={t("register.password")}
          hint={t("register.password_hint", { min: PASSWORD_MIN })}
          error={errors.password}
          autocomplete="new-password"
          required
          minLength={PASSWORD_MIN}
          maxLength={PASSWORD_MAX}
        />
        <Field
          t={t}
          name="password_confirm"
          type="password"
          label={t("register.password_confirm")}
          error={errors.password_confirm}
          autocomplete="new-password"
          required
        />
        <button type="submit" class="primary">{t("register.submit")}</button>
      </form>
      <p class="aside">
        {t("register.have_account")} <a href="/login">{t("nav.login")}</a>
      </p>
    </Layout>
  );
}

export function registerRoutes(deps: AppDeps) {
  const { config, signer, clock, deliverer, log } = deps;
  const app = new Hono<AppEnv>();

  // The empty form is the same for everyone in a language: render it once.
  const pages = createPageCache();
  app.get(
    "/",
    (c) =>
      pages.serve(
        c,
        "register",
        () => <RegisterPage page={pageInfo(c, config)} />,
      ),
  );

  app.post("/", async (c) => {
    const form = await readForm(c);
    const parsed = RegisterSchema.safeParse(form);
    const values = { first_name: form.first_name, email: form.email };
    if (!parsed.success) {
      const page = (
        <RegisterPage
          page={pageInfo(c, config)}
          values={values}
          errors={fieldErrors(parsed.error)}
        />
      );
      return renderPage(c, page, 422);
    }
    const res = await registerAccount(deps, parsed.data, c.get("language"));
    if (!res.ok) {
      const page = (
        <RegisterPage
          page={pageInfo(c, config)}
          values={values}
          errors={{ _form: "register.retry" }}
        />
      );
      return renderPage(c, page, 503);
    }
    // A taken email gets a cookie too (for an id that exists nowhere), so the
    // two answers cannot be told apart.
    const marker = await signer.sign(REGISTERED_PURPOSE, {
      sub: res.userId ?? uuidv7(),
      iat: clock.now(),
    });
    setCookie(c, REGISTERED_COOKIE, marker, {
      httpOnly: true,
      sameSite: "Lax",
      path: "/activate",
      secure: config.secureCookies,
      maxAge: REGISTERED_COOKIE_MAX_AGE_MS / 1000,
    });
    if (res.outboxId && config.signalQueue === "none") {
      // No queue here (Deno Deploy): try at once; the cron sweep is the net.
      deliverer.deliver(res.outboxId).catch((err) =>
        log.error("immediate delivery failed", {
          outboxId: res.outboxId,
          error: err,
        })
      );
    }
    return c.redirect("/register/done", 303);
  });

  app.get("/done", (c) => {
    const page = pageInfo(c, config);
    const { t } = page;
    const hours = Math.round(config.activationMaxAgeMs / 3_600_000);
    return renderPage(
      c,
      <Layout page={page} title={t("done.title")}>
        <Message title={t("done.title")} body={t("done.body", { hours })}>
          <p class="aside">{t("done.spam")}</p>
        </Message>
      </Layout>,
    );
  });

  return app;
}
