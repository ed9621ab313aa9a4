// /password/forgot → mail with a signed link → /password/reset/<token>: a new
// password, every other session ended, the person signed in.
//
// Why this file is long: it is one flow's pages and handlers together (the
// house rule for routes/), and this flow has the most situations to say
// apart (each link problem, the credentials it asks for, the waits). Each
// handler is short; the route builder is as long as its handlers together.
import { Hono } from "hono";
import { ErrorSummary, Field } from "../components/Field.tsx";
import {
  checkInboxHandler,
  lifetimes,
  WithMaskedAddress,
} from "../components/Message.tsx";
import { KEEP_TYPED_SCRIPT } from "./_app.tsx";
import { LimitNotice, SubmitButton } from "../components/LimitNotice.tsx";
import { NewPasswordFields } from "../components/NewPasswordFields.tsx";
import { setAccountNotice } from "../lib/web/notices.ts";
import type { ComponentProps } from "preact";
import type { AppDeps } from "../lib/app/deps.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import {
  type AppContext,
  type AppEnv,
  maskEmail,
  setSessionCookie,
} from "../lib/web/http.ts";
import { readForm } from "../lib/web/input.ts";
import type { PageStatus } from "../lib/web/render.ts";
import { requestMail } from "../lib/web/mail_requests.ts";
import {
  checkResetLink,
  type ResetLinkCheck,
  resetPassword,
} from "../lib/accounts/password_reset.ts";
import { withHashTurn } from "../lib/web/hash_turns.ts";
import {
  hashTurnRefusedPage,
  limitedSeconds,
  requestClient,
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
    { title: t("forgot.title"), status, scripts: [KEEP_TYPED_SCRIPT] },
  );
}

function ResetPage(
  { t, lang, token, errors = {}, waitSeconds }: {
    t: Translate;
    lang: string;
    token: string;
    errors?: FieldErrors;
    /** After a 429: how long until the form is taken again. */
    waitSeconds?: number;
  },
) {
  return (
    <>
      <h1>{t("reset.title")}</h1>
      {waitSeconds !== undefined && (
        <LimitNotice t={t} lang={lang} seconds={waitSeconds} />
      )}
      <ErrorSummary t={t} title={t("register.errors_title")} errors={errors} />
      <form method="post" action={`/password/reset/${token}`} novalidate>
        <NewPasswordFields t={t} errors={errors} />
        <SubmitButton
          t={t}
          label={t("reset.submit")}
          waitSeconds={waitSeconds}
        />
      </form>
    </>
  );
}

function resetPage(
  c: AppContext,
  props: Omit<ComponentProps<typeof ResetPage>, "t" | "lang">,
  status?: PageStatus,
) {
  const t = c.get("t");
  return c.render(<ResetPage t={t} lang={c.get("language")} {...props} />, {
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

  /**
   * A reset link that no longer works says why. Where it still names an
   * active account (expired, or used), a fresh one is one press away, to the
   * address shown masked; a broken link only points to the forgot form.
   */
  function linkProblemPage(
    c: AppContext,
    token: string,
    link: Exclude<ResetLinkCheck, { ok: true }>,
    waitSeconds?: number,
  ) {
    const t = c.get("t");
    const lang = c.get("language");
    const user = link.reason === "invalid" ? null : link.user;
    const kind = link.reason === "invalid" ? "broken" : link.reason;
    const title = t(`reset.${kind}_title`);
    const text = (email: string) =>
      t(`reset.${kind}_${user ? "known" : "body"}`, {
        ...lifetimes(config, lang),
        email,
      });
    return c.render(
      <>
        <h1>{title}</h1>
        <p>
          {user
            ? <WithMaskedAddress text={text} email={maskEmail(user.email)} />
            : text("")}
        </p>
        {user
          ? (
            <form method="post" action="/password/renew">
              {waitSeconds !== undefined && (
                <LimitNotice t={t} lang={lang} seconds={waitSeconds} />
              )}
              <input type="hidden" name="link" value={token} />
              <SubmitButton
                t={t}
                label={t("reset.renew_submit")}
                waitSeconds={waitSeconds}
                waitKey="resend.wait_button"
              />
            </form>
          )
          : (
            <p>
              <a class="button primary" href="/password/forgot">
                {t("reset.get_new")}
              </a>
            </p>
          )}
      </>,
      { title, status: waitSeconds !== undefined ? 429 : 400 },
    );
  }

  /** The page for a link that no longer resets. */
  async function deadLinkAnswer(c: AppContext, token: string) {
    const link = await checkResetLink(deps, token);
    // Still good: a race the next press settles; say it as a used link.
    return linkProblemPage(
      c,
      token,
      link.ok ? { ok: false, reason: "used", user: link.user } : link,
    );
  }

  // "Email me a new link" from a dead link's page: the link names the
  // account, so nobody types an address. Only a link we signed gets this far.
  app.post("/renew", async (c) => {
    const token = (await readForm(c)).link ?? "";
    const link = await checkResetLink(deps, token);
    if (link.ok) return c.redirect(`/password/reset/${token}`, 303);
    if (link.reason === "invalid" || !link.user) {
      return linkProblemPage(c, token, link);
    }
    const res = await requestMail(deps, c, "forgot", link.user.email);
    if (!res.ok) {
      return linkProblemPage(
        c,
        token,
        link,
        limitedSeconds(c, res.retryAfterMs),
      );
    }
    return c.redirect("/password/forgot/sent", 303);
  });

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
    if (!link.ok) return linkProblemPage(c, token, link);
    return resetPage(c, { token });
  });

  app.post("/reset/:token", async (c) => {
    const token = c.req.param("token");
    const parsed = ResetPasswordSchema.safeParse(await readForm(c));
    const errors = parsed.success ? null : fieldErrors(parsed.error);
    if (!parsed.success) {
      // A dead link says so before anyone fixes fields for nothing.
      const link = await checkResetLink(deps, token);
      if (!link.ok) return linkProblemPage(c, token, link);
    }
    // Hashing the new password takes the link's turn first.
    const res = parsed.success
      ? await withHashTurn(
        deps,
        c,
        { link: token },
        () => resetPassword(deps, token, parsed.data, requestClient(c, config)),
      )
      : { ok: false as const, reason: "fields" as const, errors: errors! };
    if (!res.ok && "retryAfterMs" in res) {
      // A dead link gets no form back, only the wait.
      if (res.reason === "busy" || !(await checkResetLink(deps, token)).ok) {
        return hashTurnRefusedPage(c, res);
      }
      // Refused for now: the same form, with the wait.
      return resetPage(c, {
        token,
        waitSeconds: limitedSeconds(c, res.retryAfterMs),
      }, 429);
    }
    if (!res.ok) {
      if (res.reason === "fields") {
        return resetPage(c, { token, errors: res.errors }, 422);
      }
      if (res.reason === "retry") return retryLaterPage(c);
      return await deadLinkAnswer(c, token);
    }
    const old = c.get("session");
    if (old) await deleteSession(deps.kv, old.idHash);
    setSessionCookie(c, config, res.session.token);
    setAccountNotice(c, config, "reset");
    return c.redirect("/account", 303);
  });

  return app;
}
