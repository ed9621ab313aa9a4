// /login: email and password; and POST /logout.
import { Hono } from "hono";
import { ErrorSummary, Field } from "../components/Field.tsx";
import { Island, pickMessages } from "../components/Island.tsx";
import { KEEP_TYPED_SCRIPT } from "./_app.tsx";
import { LimitNotice, SubmitButton } from "../components/LimitNotice.tsx";
import { PASSWORD_FIELD_MESSAGES } from "../islands/PasswordField.tsx";
import { RESEND_BUTTON_MESSAGES } from "../islands/ResendButton.tsx";
import { signIn } from "../lib/accounts/sign_in.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import type { ComponentProps } from "preact";
import {
  type AppContext,
  type AppEnv,
  clearCookie,
  SESSION_COOKIE,
  setSessionCookie,
} from "../lib/web/http.ts";
import { readForm } from "../lib/web/input.ts";
import {
  type FieldErrors,
  fieldErrors,
  LoginSchema,
} from "../lib/accounts/schemas.ts";
import {
  clientIp,
  clientKey,
  countLoginFailure,
  limitedSeconds,
  limitRequest,
  requestClient,
} from "../lib/web/request_limits.tsx";
import { deleteSession } from "../lib/accounts/sessions.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { PageStatus } from "../lib/web/render.ts";

function LoginPage(
  { t, lang, email, errors = {}, notice, offerResend, waitSeconds }: {
    t: Translate;
    lang: string;
    email?: string;
    errors?: FieldErrors;
    notice?: string;
    /**
     * After any failed sign-in: a pending account's owner (who answers
     * exactly like a wrong password) may just need the link again.
     */
    offerResend?: boolean;
    /** After a 429: how long until the form is taken again. */
    waitSeconds?: number;
  },
) {
  return (
    <>
      <h1>{t("login.title")}</h1>
      {notice && <p class="notice" role="status">{t(notice)}</p>}
      {waitSeconds !== undefined && (
        <LimitNotice t={t} lang={lang} seconds={waitSeconds} />
      )}
      {offerResend && email
        ? <SignInFailed t={t} email={email} />
        : (
          <ErrorSummary
            t={t}
            title={t("register.errors_title")}
            errors={errors}
          />
        )}
      <form method="post" action="/login" novalidate>
        <Field
          t={t}
          name="email"
          type="email"
          label={t("login.email")}
          value={email}
          error={errors.email}
          autocomplete="email"
          required
        />
        <Island
          name="PasswordField"
          props={{
            messages: pickMessages(t, [
              ...PASSWORD_FIELD_MESSAGES,
              ...(errors.password ? [errors.password] : []),
            ]),
            name: "password",
            label: t("login.password"),
            error: errors.password,
            autocomplete: "current-password",
            required: true,
          }}
        />
        <SubmitButton
          t={t}
          label={t("login.submit")}
          waitSeconds={waitSeconds}
        />
      </form>
      <p class="aside">
        <a href="/password/forgot">{t("login.forgot")}</a>
      </p>
      <p class="aside">
        {t("login.no_account")} <a href="/register">{t("nav.register")}</a>
      </p>
    </>
  );
}

function loginPage(
  c: AppContext,
  props: Omit<ComponentProps<typeof LoginPage>, "t" | "lang">,
  status?: PageStatus,
) {
  const t = c.get("t");
  return c.render(
    <LoginPage t={t} lang={c.get("language")} {...props} />,
    { title: t("login.title"), status, scripts: [KEEP_TYPED_SCRIPT] },
  );
}

/**
 * A failed sign-in, said the same whether the address is unknown, the
 * password wrong, or the account still waiting for activation: the hint and
 * its one-press "send a new link" (to the address just typed) fit all three
 * and tell nobody which it was.
 */
function SignInFailed({ t, email }: { t: Translate; email: string }) {
  return (
    <div
      class="error-summary"
      id="error-summary"
      role="alert"
      tabIndex={-1}
      autofocus
      aria-labelledby="error-summary-title"
    >
      <p id="error-summary-title">
        <strong>{t("login.failed")}</strong>
      </p>
      <p>{t("login.pending_hint")}</p>
      <form method="post" action="/activate/resend" class="resend-inline">
        <input type="hidden" name="email" value={email} />
        <Island
          name="ResendButton"
          props={{ messages: pickMessages(t, RESEND_BUTTON_MESSAGES) }}
        />
      </form>
    </div>
  );
}

const FAILURE_MESSAGES = {
  failed: "login.failed",
  inactive: "login.inactive",
  retry: "register.retry",
} as const;

export function loginRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  app.get("/", (c) => {
    if (c.get("user")) return c.redirect("/account", 303);
    const notice = c.req.query("activated") ? "login.activated" : undefined;
    return loginPage(c, { notice });
  });

  app.post("/", async (c) => {
    const form = await readForm(c);
    const parsed = LoginSchema.safeParse(form);
    if (!parsed.success) {
      return loginPage(
        c,
        { email: form.email, errors: fieldErrors(parsed.error) },
        422,
      );
    }
    // Refused for now: the same form, with the address typed and the wait.
    const limitedPage = (retryAfterMs: number) =>
      loginPage(
        c,
        {
          email: parsed.data.email,
          waitSeconds: limitedSeconds(c, retryAfterMs),
        },
        429,
      );
    const limited = await limitRequest(deps, c, "login", parsed.data.email);
    if (!limited.ok) return limitedPage(limited.retryAfterMs);
    const res = await signIn(
      deps,
      parsed.data,
      clientKey(clientIp(c, config.trustedProxyHops)),
      requestClient(c, config),
    );
    if (!res.ok && res.reason === "throttled") {
      return limitedPage(res.retryAfterMs);
    }
    if (!res.ok) {
      if (res.reason === "failed") {
        await countLoginFailure(deps, c, parsed.data.email);
      }
      return loginPage(c, {
        email: parsed.data.email,
        errors: { _form: FAILURE_MESSAGES[res.reason] },
        offerResend: res.reason === "failed",
      }, res.reason === "retry" ? 503 : 400);
    }
    // A fresh session id on every sign-in: a planted cookie is worthless.
    const old = c.get("session");
    if (old) await deleteSession(deps.kv, old.idHash);
    setSessionCookie(c, config, res.session.token);
    return c.redirect("/account", 303);
  });

  return app;
}

export function logoutRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post("/", async (c) => {
    const session = c.get("session");
    // Deleting the record is what signs out: a copied cookie stops working.
    if (session) await deleteSession(deps.kv, session.idHash);
    clearCookie(c, deps.config, SESSION_COOKIE);
    return c.redirect("/login", 303);
  });
  return app;
}
