// /password/forgot → mail with a signed link → /password/reset/<token>: a new
// password, every other session ended, the person signed in.
import { Hono } from "hono";
import { ErrorSummary, Field } from "../components/Field.tsx";
import { checkInboxHandler, Message } from "../components/Message.tsx";
import { LimitNotice, SubmitButton } from "../components/LimitNotice.tsx";
import { NewPasswordFields } from "../components/NewPasswordFields.tsx";
import { setAccountNotice } from "./account.tsx";
import type { ComponentProps } from "preact";
import type { AppDeps } from "../lib/app/deps.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import {
  type AppContext,
  type AppEnv,
  setSessionCookie,
} from "../lib/web/http.ts";
import { readForm } from "../lib/web/input.ts";
import type { PageStatus } from "../lib/web/render.ts";
import { requestMail } from "../lib/web/mail_requests.ts";
import {
  checkResetLink,
  resetPassword,
} from "../lib/accounts/password_reset.ts";
import { withHashTurn } from "../lib/web/hash_turns.ts";
import {
  hashTurnRefusedPage,
  limitedSeconds,
  retryLaterPage,
} from "../lib/web/request_limits.tsx";
import {
  EmailOnlySchema,
  type FieldErrors,
  fieldErrors,
  ResetPasswordSchema,
} from "../lib/accounts/schemas.ts";
import { deleteSession } from "../lib/accounts/sessions.ts";

function ForgotPage(
  { t, lang, email, errors = {}, waitSeconds }: {
    t: Translate;
    lang: string;
    email?: string;
    errors?: FieldErrors;
    /** After a 429: how long until the form is taken again. */
    waitSeconds?: number;
  },
) {
  return (
    <>
      <h1>{t("forgot.title")}</h1>
      <p class="lead">{t("forgot.intro")}</p>
      {waitSeconds !== undefined && (
        <LimitNotice t={t} lang={lang} seconds={waitSeconds} />
      )}
      <ErrorSummary t={t} title={t("register.errors_title")} errors={errors} />
      <form method="post" action="/password/forgot" novalidate>
        <Field
          t={t}
          name="email"
          type="email"
          label={t("forgot.email")}
          value={email}
          error={errors.email}
          autocomplete="email"
          required
        />
        <SubmitButton
          t={t}
          label={t("forgot.submit")}
          waitSeconds={waitSeconds}
        />
      </form>
      <p class="aside">
        <a href="/login">{t("nav.login")}</a>
      </p>
    </>
  );
}

function forgotPage(
  c: AppContext,
  props: Omit<ComponentProps<typeof ForgotPage>, "t" | "lang">,
  status?: PageStatus,
) {
  const t = c.get("t");
  return c.render(
    <ForgotPage t={t} lang={c.get("language")} {...props} />,
    { title: t("forgot.title"), status },
  );
}

function ResetPage(
  { t, token, errors = {} }: {
    t: Translate;
    token: string;
    errors?: FieldErrors;
  },
) {
  return (
    <>
      <h1>{t("reset.title")}</h1>
      <ErrorSummary t={t} title={t("register.errors_title")} errors={errors} />
      <form method="post" action={`/password/reset/${token}`} novalidate>
        <NewPasswordFields t={t} errors={errors} />
        <button type="submit" class="primary">{t("reset.submit")}</button>
      </form>
    </>
  );
}

function resetPage(
  c: AppContext,
  props: Omit<ComponentProps<typeof ResetPage>, "t">,
  status?: PageStatus,
) {
  const t = c.get("t");
  return c.render(<ResetPage t={t} {...props} />, {
    title: t("reset.title"),
    status,
  });
}

export function passwordRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  // Reset pages carry the token in their URL: never cached, never a Referer.
  app.use("/reset/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
  });

  function badLink(c: AppContext, reason: "invalid" | "expired") {
    const t = c.get("t");
    const title = t(`reset.${reason}_title`);
    return c.render(
      <Message title={title} body={t(`reset.${reason}_body`)}>
        <p>
          <a class="button" href="/password/forgot">{t("reset.get_new")}</a>
        </p>
      </Message>,
      { title, status: 400 },
    );
  }

  app.get("/forgot", (c) => {
    // Signed in, the person can change the password on the account page.
    if (c.get("user")) return c.redirect("/account", 303);
    return forgotPage(c, {});
  });

  app.post("/forgot", async (c) => {
    const form = await readForm(c);
    const parsed = EmailOnlySchema.safeParse(form);
    if (!parsed.success) {
      return forgotPage(
        c,
        { email: form.email, errors: fieldErrors(parsed.error) },
        422,
      );
    }
    const res = await requestMail(deps, c, "forgot", parsed.data.email);
    if (!res.ok) {
      return forgotPage(c, {
        email: parsed.data.email,
        waitSeconds: limitedSeconds(c, res.retryAfterMs),
      }, 429);
    }
    return c.redirect("/password/forgot/sent", 303);
  });

  app.get(
    "/forgot/sent",
    checkInboxHandler(
      config,
      { title: "forgot.sent_title", body: "forgot.sent_body" },
      {},
    ),
  );

  app.get("/reset/:token", async (c) => {
    const token = c.req.param("token");
    const link = await checkResetLink(deps, token);
    if (!link.ok) return badLink(c, link.reason);
    return resetPage(c, { token });
  });

  app.post("/reset/:token", async (c) => {
    const token = c.req.param("token");
    const parsed = ResetPasswordSchema.safeParse(await readForm(c));
    const errors = parsed.success ? null : fieldErrors(parsed.error);
    if (!parsed.success) {
      // A dead link says so before anyone fixes fields for nothing.
      const link = await checkResetLink(deps, token);
      if (!link.ok) return badLink(c, link.reason);
    }
    // Hashing the new password takes the link's turn first.
    const res = parsed.success
      ? await withHashTurn(
        deps,
        c,
        { link: token },
        () => resetPassword(deps, token, parsed.data),
      )
      : { ok: false as const, reason: "fields" as const, errors: errors! };
    if (!res.ok && "retryAfterMs" in res) {
      return hashTurnRefusedPage(c, res);
    }
    if (!res.ok) {
      if (res.reason === "fields") {
        return resetPage(c, { token, errors: res.errors }, 422);
      }
      if (res.reason === "retry") return retryLaterPage(c);
      return badLink(c, res.reason);
    }
    const old = c.get("session");
    if (old) await deleteSession(deps.kv, old.idHash);
    setSessionCookie(c, config, res.session.token);
    setAccountNotice(c, config, "reset");
    return c.redirect("/account", 303);
  });

  return app;
}
