// /activate/<token>. Mail scanners open links before people do, so a GET only
// shows a one-button page (which submits itself in the browser that
// registered); the POST activates and signs the person in.
//
// Why this file is long: it is one flow's pages and handlers together (the
// house rule for routes/), and this flow has the most situations to say
// apart (each link problem, the credentials it asks for, the waits). Each
// handler is short; the route builder is as long as its handlers together.
import { Hono } from "hono";
import { CurrentPasswordField } from "../components/Field.tsx";
import {
  checkInboxHandler,
  lifetimes,
  Message,
  WithMaskedAddress,
} from "../components/Message.tsx";
import {
  LimitNotice,
  ResendWaitNotice,
  SubmitButton,
} from "../components/LimitNotice.tsx";
import { NewPasswordFields } from "../components/NewPasswordFields.tsx";
import { ResendForm } from "../components/ResendForm.tsx";
import {
  activateAccount,
  ActivatePasswordSchema,
  checkActivationLink,
  type LinkCheck,
} from "../lib/accounts/accounts.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import {
  type AppContext,
  type AppEnv,
  maskEmail,
  setSessionCookie,
} from "../lib/web/http.ts";
import { FORM_TYPE, readForm } from "../lib/web/input.ts";
import { requestMail } from "../lib/web/mail_requests.ts";
import { withHashTurn } from "../lib/web/hash_turns.ts";
import {
  hashTurnRefusedPage,
  limitedSeconds,
  requestClient,
} from "../lib/web/request_limits.tsx";
import {
  EmailOnlySchema,
  type FieldErrors,
  fieldErrors,
  ResetPasswordSchema,
} from "../lib/accounts/schemas.ts";
import { activationNeeds, type User } from "../lib/accounts/users.ts";
import { setAccountNotice } from "../lib/web/notices.ts";
import { KEEP_TYPED_SCRIPT } from "./_app.tsx";
import {
  forgetRegisteringBrowser,
  registrantHere,
} from "../lib/web/registrant.ts";

export function activateRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  // Pages with the token in their URL: never cached, never sent as Referer.
  app.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
  });

  /**
   * A link that no longer works says why. Where it still names a pending
   * account (expired, or replaced by a newer link), a fresh one is one press
   * away, to the address shown masked; a broken link names nobody, so only
   * the address form can help.
   */
  function linkProblemPage(
    c: AppContext,
    token: string,
    link: Exclude<LinkCheck, { ok: true } | { reason: "already_active" }>,
    waitSeconds?: number,
  ) {
    const t = c.get("t");
    const user = link.reason === "invalid" ? null : link.user;
    const kind = link.reason === "invalid" ? "broken" : link.reason;
    const title = t(`activate.${kind}_title`);
    const text = (email: string) =>
      t(`activate.${kind}_${user ? "known" : "body"}`, {
        ...lifetimes(config, c.get("language")),
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
            <form method="post" action="/activate/renew">
              {waitSeconds !== undefined && (
                <ResendWaitNotice t={t} seconds={waitSeconds} />
              )}
              <input type="hidden" name="link" value={token} />
              <SubmitButton
                t={t}
                label={t("activate.renew_submit")}
                waitSeconds={waitSeconds}
                waitKey="resend.wait_button"
              />
            </form>
          )
          : <ResendForm t={t} title={t("activate.ask_new")} />}
      </>,
      { title, status: waitSeconds !== undefined ? 429 : 400 },
    );
  }

  /** The page for a link that does not activate (or a redirect if done). */
  async function deadLinkAnswer(c: AppContext, token: string) {
    const link = await checkActivationLink(deps, token);
    if (link.ok || link.reason === "already_active") {
      // Activated meanwhile (or a race the next press will settle).
      return c.redirect(config.redirectIfAlreadyActive, 303);
    }
    return linkProblemPage(c, token, link);
  }

  /**
   * Outside the browser that registered, whoever holds the link proves they
   * may activate (see activationNeeds): the account's password, or a new
   * one; a contested address offers only the second. The full address is
   * shown, so nobody activates someone else's account unawares.
   */
  function credentialsPage(
    c: AppContext,
    token: string,
    user: User,
    needs: "password" | "new_password",
    errors: FieldErrors = {},
    /** After a 429: the same page, saying how long to wait. */
    waitSeconds?: number,
  ) {
    const t = c.get("t");
    const action = `/activate/${token}`;
    return c.render(
      <>
        <h1>{t("activate.title")}</h1>
        <p>{t("activate.for_address", { email: user.email })}</p>
        {waitSeconds !== undefined && (
          <LimitNotice t={t} lang={c.get("language")} seconds={waitSeconds} />
        )}
        {needs === "password" && (
          <form method="post" action={action} novalidate>
            <p>{t("activate.password_body")}</p>
            <CurrentPasswordField
              t={t}
              label={t("activate.current_password")}
              error={errors.current_password}
            />
            <SubmitButton
              t={t}
              label={t("activate.password_submit")}
              waitSeconds={waitSeconds}
            />
          </form>
        )}
        {needs === "password" && <h2>{t("activate.or_choose")}</h2>}
        <p>
          {needs === "password"
            ? t("activate.choose_instead")
            : t("activate.choose_body", { email: user.email })}
        </p>
        <form method="post" action={action} novalidate>
          <NewPasswordFields t={t} errors={errors} />
          <SubmitButton
            t={t}
            label={t("activate.choose_submit")}
            waitSeconds={waitSeconds}
          />
        </form>
      </>,
      {
        title: t("activate.title"),
        status: waitSeconds !== undefined
          ? 429
          : Object.keys(errors).length
          ? 422
          : 200,
      },
    );
  }

  function resendPage(
    c: AppContext,
    opts: { email?: string; error?: string; waitSeconds?: number } = {},
  ) {
    const t = c.get("t");
    return c.render(<ResendForm t={t} {...opts} standalone />, {
      title: t("resend.title"),
      status: opts.waitSeconds !== undefined ? 429 : opts.error ? 422 : 200,
      scripts: [KEEP_TYPED_SCRIPT],
    });
  }

  // Registered before /:token, which would otherwise take these names.
  app.get("/resend", (c) => resendPage(c));

  app.post("/resend", async (c) => {
    const form = await readForm(c);
    const parsed = EmailOnlySchema.safeParse(form);
    if (!parsed.success) {
      return resendPage(c, {
        email: form.email,
        error: fieldErrors(parsed.error).email,
      });
    }
    const res = await requestMail(deps, c, "resend", parsed.data.email);
    if (!res.ok) {
      // Asking again too soon is harmless: the same form says when.
      return resendPage(c, {
        email: parsed.data.email,
        waitSeconds: limitedSeconds(c, res.retryAfterMs),
      });
    }
    // The same answer whether or not a mail is due: nothing to enumerate.
    return c.redirect("/activate/sent", 303);
  });

  // "Send me a new link" from a dead link's page: the link names the account,
  // so nobody types an address. Only a link we signed gets this far.
  app.post("/renew", async (c) => {
    const token = (await readForm(c)).link ?? "";
    const link = await checkActivationLink(deps, token);
    if (link.ok) return c.redirect(`/activate/${token}`, 303);
    if (link.reason === "already_active") {
      return c.redirect(config.redirectIfAlreadyActive, 303);
    }
    if (link.reason === "invalid" || !link.user) {
      return linkProblemPage(c, token, link);
    }
    const res = await requestMail(deps, c, "resend", link.user.email);
    if (!res.ok) {
      return linkProblemPage(
        c,
        token,
        link,
        limitedSeconds(c, res.retryAfterMs),
      );
    }
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
      return linkProblemPage(c, token, link);
    }
    const registrant = await registrantHere(c, deps);
    const needs = activationNeeds(link.user, registrant);
    if (needs !== "nothing") {
      return credentialsPage(c, token, link.user, needs);
    }
    // Only the browser that registered gets here: one step, no typing (the
    // page submits itself where JavaScript runs).
    const t = c.get("t");
    return c.render(
      <>
        <h1>{t("activate.title")}</h1>
        <p>{t("activate.body", { email: link.user.email })}</p>
        <form method="post" action={`/activate/${token}`} data-auto-submit="">
          <button type="submit" class="primary">
            {t("activate.submit")}
          </button>
        </form>
        {
          /* Empty until the script submits: without JavaScript nothing
          happens until the button is pressed, so nothing says otherwise. */
        }
        <p
          class="aside"
          aria-live="polite"
          data-auto-status={t("activate.auto")}
        />
      </>,
      { title: t("activate.title"), scripts: ["/static/activate.js"] },
    );
  });

  app.post("/:token", async (c) => {
    const token = c.req.param("token");
    const registrant = await registrantHere(c, deps);
    // The one-button form sends no fields; the password forms do.
    const form = FORM_TYPE.test(c.req.header("content-type") ?? "")
      ? await readForm(c)
      : {};
    // Sent where nothing asks for them, the fields are ignored (see
    // activateAccount); where a password is required, wrong ones come back.
    let newPassword: string | undefined;
    let currentPassword: string | undefined;
    let errors: FieldErrors = {};
    if ("password" in form || "password_confirm" in form) {
      const parsed = ResetPasswordSchema.safeParse(form);
      if (parsed.success) newPassword = parsed.data.password;
      else errors = fieldErrors(parsed.error);
    } else if ("current_password" in form) {
      const parsed = ActivatePasswordSchema.safeParse(form);
      if (parsed.success) currentPassword = parsed.data.current_password;
      else errors = fieldErrors(parsed.error);
    }
    // A password to hash or check takes the link's turn first
    // (lib/web/hash_turns.ts).
    const res = await withHashTurn(
      deps,
      c,
      newPassword || currentPassword ? { link: token } : null,
      () =>
        activateAccount(deps, token, {
          registrant,
          currentPassword,
          newPassword,
          client: requestClient(c, config),
          // A fresh session: whatever this browser was signed in to ends
          // in the same commit.
          endSession: c.get("session") ?? undefined,
        }),
    );
    if (!res.ok && "retryAfterMs" in res) {
      if (res.reason === "busy") return hashTurnRefusedPage(c, res);
      // Refused for now: the same page (nothing typed comes back: only
      // passwords were), with the wait.
      const link = await checkActivationLink(deps, token);
      const needs = link.ok
        ? activationNeeds(link.user, registrant)
        : "nothing";
      if (!link.ok || needs === "nothing") {
        return hashTurnRefusedPage(c, res);
      }
      return credentialsPage(
        c,
        token,
        link.user,
        needs,
        {},
        limitedSeconds(c, res.retryAfterMs),
      );
    }
    if (res.ok) {
      setSessionCookie(c, config, res.session.token);
      forgetRegisteringBrowser(c, config);
      // "Your account is active", once, when the account page opens.
      setAccountNotice(c, config, "activated");
      return c.redirect(config.redirectAfterActivation, 303);
    }
    if (res.reason === "already_active") {
      return c.redirect(config.redirectIfAlreadyActive, 303);
    }
    if (res.reason === "password_required") {
      if (res.wrong) errors = { current_password: "activate.wrong_password" };
      return credentialsPage(c, token, res.user, res.needs, errors);
    }
    if (res.reason === "retry") {
      const t = c.get("t");
      return c.render(
        <Message title={t("activate.title")} body={t("activate.retry")}>
          <form method="post">
            <button type="submit" class="primary">
              {t("activate.submit")}
            </button>
          </form>
        </Message>,
        { title: t("activate.title"), status: 503 },
      );
    }
    return await deadLinkAnswer(c, token);
  });

  return app;
}
