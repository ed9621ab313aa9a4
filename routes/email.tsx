// /account/email: move the account to a new address. The form (new address,
// current password) → a mail to the new address whose link confirms (GET
// shows a page, POST changes) → a notice to the old address whose link
// undoes it within 7 days, with a new password.
//
// Why this file is long: it is one flow's pages and handlers together (the
// house rule for routes/), and this flow has the most situations to say
// apart (each link problem, the credentials it asks for, the waits). Each
// handler is short; the route builder is as long as its handlers together.
import { Hono } from "hono";
import {
  CurrentPasswordField,
  ErrorSummary,
  Field,
} from "../components/Field.tsx";
import { LimitNotice, SubmitButton } from "../components/LimitNotice.tsx";
import { checkInboxHandler, Message } from "../components/Message.tsx";
import { NewPasswordFields } from "../components/NewPasswordFields.tsx";
import { setAccountNotice } from "../lib/web/notices.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import { ActivatePasswordSchema } from "../lib/accounts/accounts.ts";
import {
  checkEmailChangeLink,
  confirmEmailChange,
  type ConfirmProof,
} from "../lib/accounts/email_change.ts";
import {
  checkEmailUndoLink,
  undoEmailChange,
} from "../lib/accounts/email_undo.ts";
import {
  askEmailChange,
  ChangeEmailSchema,
} from "../lib/web/email_change_request.ts";
import { withHashTurn } from "../lib/web/hash_turns.ts";
import {
  type AppContext,
  type AppEnv,
  maskEmail,
  type PageInfo,
  pageInfo,
  setSessionCookie,
} from "../lib/web/http.ts";
import { FORM_TYPE, readForm } from "../lib/web/input.ts";
import {
  busyPage,
  hashTurnRefusedPage,
  limitedSeconds,
  requestClient,
  retryLaterPage,
} from "../lib/web/request_limits.tsx";
import {
  type FieldErrors,
  fieldErrors,
  ResetPasswordSchema,
} from "../lib/accounts/schemas.ts";
import { deleteSession } from "../lib/accounts/sessions.ts";
import type { User } from "../lib/accounts/users.ts";

function ChangeEmailForm(
  { page, user, email, errors = {}, waitSeconds }: {
    page: PageInfo;
    user: User;
    email?: string;
    errors?: FieldErrors;
    /** After a 429: how long until the form is taken again. */
    waitSeconds?: number;
  },
) {
  const { t } = page;
  return (
    <>
      <h1>{t("email_change.title")}</h1>
      <p class="lead">{t("email_change.intro", { email: user.email })}</p>
      {waitSeconds !== undefined && (
        <LimitNotice t={t} lang={page.lang} seconds={waitSeconds} />
      )}
      <ErrorSummary t={t} title={t("register.errors_title")} errors={errors} />
      <form method="post" action="/account/email" novalidate>
        <Field
          t={t}
          name="email"
          type="email"
          label={t("email_change.email")}
          value={email}
          error={errors.email}
          autocomplete="email"
          required
        />
        <CurrentPasswordField
          t={t}
          label={t("account.current_password")}
          error={errors.current_password}
        />
        <SubmitButton
          t={t}
          label={t("email_change.submit")}
          waitSeconds={waitSeconds}
        />
      </form>
      <p class="aside">
        <a href="/account">{t("nav.account")}</a>
      </p>
    </>
  );
}

export function emailRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  // Every page here is the account's own, or carries a token in its URL:
  // never cached, never sent as Referer.
  app.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
  });

  function formPage(
    c: AppContext,
    user: User,
    opts: { email?: string; errors?: FieldErrors; waitMs?: number } = {},
    status: 200 | 422 | 429 = 200,
  ) {
    const page = pageInfo(c, config);
    return c.render(
      <ChangeEmailForm
        page={page}
        user={user}
        email={opts.email}
        errors={opts.errors}
        waitSeconds={opts.waitMs === undefined
          ? undefined
          : limitedSeconds(c, opts.waitMs)}
      />,
      { title: page.t("email_change.title"), status },
    );
  }

  /** A page that only says something about a link (bad, or refused). */
  function linkPage(
    c: AppContext,
    prefix: "email_confirm" | "email_undo",
    reason: "invalid" | "expired" | "taken",
  ) {
    const t = c.get("t");
    const title = t(`${prefix}.${reason}_title`);
    return c.render(
      <>
        <Message title={title} body={t(`${prefix}.${reason}_body`)}>
          {prefix === "email_confirm" && (
            <p>
              <a class="button" href="/account/email">
                {t("email_confirm.ask_again")}
              </a>
            </p>
          )}
        </Message>
      </>,
      { title: title, status: reason === "taken" ? 409 : 400 },
    );
  }

  app.get("/", (c) => {
    const user = c.get("user");
    if (!user) return c.redirect("/login", 303);
    return formPage(c, user);
  });

  app.post("/", async (c) => {
    const user = c.get("user");
    if (!user) return c.redirect("/login", 303);
    const form = await readForm(c);
    const parsed = ChangeEmailSchema.safeParse(form);
    if (!parsed.success) {
      return formPage(c, user, {
        email: form.email,
        errors: fieldErrors(parsed.error),
      }, 422);
    }
    const email = parsed.data.email;
    const res = await askEmailChange(deps, c, user, parsed.data);
    if (!res.ok) {
      switch (res.reason) {
        case "fields":
          return formPage(c, user, { email, errors: res.errors }, 422);
        case "limited":
          return formPage(c, user, { email, waitMs: res.retryAfterMs }, 429);
        case "busy":
          return busyPage(c, res.retryAfterMs);
        case "retry":
          return retryLaterPage(c);
      }
    }
    // The same answer whether the address is free or taken.
    return c.redirect("/account/email/sent", 303);
  });

  app.get(
    "/sent",
    checkInboxHandler(
      config,
      { title: "email_change.sent_title", body: "email_change.sent_body" },
      {},
    ),
  );

  /**
   * The confirm page: one button in a browser signed in to the account;
   * elsewhere the account's password too (see ConfirmProof).
   */
  function confirmPage(
    c: AppContext,
    token: string,
    change: { fromEmail: string; toEmail: string },
    needsPassword: boolean,
    errors: FieldErrors = {},
  ) {
    const t = c.get("t");
    return c.render(
      <>
        <h1>{t("email_confirm.title")}</h1>
        <p>
          {t("email_confirm.body", {
            email: change.toEmail,
            old: maskEmail(change.fromEmail),
          })}
        </p>
        {needsPassword && <p>{t("email_confirm.password_body")}</p>}
        <ErrorSummary
          t={t}
          title={t("register.errors_title")}
          errors={errors}
        />
        <form
          method="post"
          action={`/account/email/confirm/${token}`}
          novalidate
        >
          {needsPassword && (
            <CurrentPasswordField
              t={t}
              label={t("account.current_password")}
              error={errors.current_password}
            />
          )}
          <button type="submit" class="primary">
            {t("email_confirm.submit")}
          </button>
        </form>
      </>,
      {
        title: t("email_confirm.title"),
        status: Object.keys(errors).length ? 422 : 200,
      },
    );
  }

  app.get("/confirm/:token", async (c) => {
    const token = c.req.param("token");
    const link = await checkEmailChangeLink(deps, token);
    if (!link.ok) return linkPage(c, "email_confirm", link.reason);
    // Mail scanners open links: this page changes nothing by itself.
    const signedIn = c.get("user")?.id === link.user.id;
    return confirmPage(c, token, link.change, !signedIn);
  });

  app.post("/confirm/:token", async (c) => {
    const token = c.req.param("token");
    // The one-button form sends no fields; the password form does.
    const form = FORM_TYPE.test(c.req.header("content-type") ?? "")
      ? await readForm(c)
      : {};
    let proof: ConfirmProof = { signedInAs: c.get("user")?.id ?? null };
    if ("current_password" in form) {
      const parsed = ActivatePasswordSchema.safeParse(form);
      if (!parsed.success) {
        const link = await checkEmailChangeLink(deps, token);
        if (!link.ok) return linkPage(c, "email_confirm", link.reason);
        return confirmPage(
          c,
          token,
          link.change,
          true,
          fieldErrors(parsed.error),
        );
      }
      proof = { password: parsed.data.current_password };
    }
    // A password to check takes the link's turn first.
    const res = await withHashTurn(
      deps,
      c,
      "password" in proof ? { link: token } : null,
      () => confirmEmailChange(deps, token, proof, requestClient(c, config)),
    );
    if (!res.ok && "retryAfterMs" in res) {
      return hashTurnRefusedPage(c, res);
    }
    if (!res.ok) {
      switch (res.reason) {
        case "retry":
          return retryLaterPage(c);
        case "password_required": {
          const link = await checkEmailChangeLink(deps, token);
          if (!link.ok) return linkPage(c, "email_confirm", link.reason);
          return confirmPage(
            c,
            token,
            link.change,
            true,
            res.wrong ? { current_password: "current_password.wrong" } : {},
          );
        }
        default:
          return linkPage(c, "email_confirm", res.reason);
      }
    }
    setAccountNotice(c, config, "email_changed");
    return c.redirect("/account", 303);
  });

  function undoPage(
    c: AppContext,
    token: string,
    email: string,
    errors: FieldErrors = {},
  ) {
    const t = c.get("t");
    return c.render(
      <>
        <h1>{t("email_undo.title")}</h1>
        <p>{t("email_undo.body", { email })}</p>
        <ErrorSummary
          t={t}
          title={t("register.errors_title")}
          errors={errors}
        />
        <form method="post" action={`/account/email/undo/${token}`} novalidate>
          <NewPasswordFields t={t} errors={errors} />
          <button type="submit" class="primary">
            {t("email_undo.submit")}
          </button>
        </form>
      </>,
      {
        title: t("email_undo.title"),
        status: Object.keys(errors).length ? 422 : 200,
      },
    );
  }

  app.get("/undo/:token", async (c) => {
    const token = c.req.param("token");
    const link = await checkEmailUndoLink(deps, token);
    if (!link.ok) return linkPage(c, "email_undo", link.reason);
    return undoPage(c, token, link.undo.fromEmail);
  });

  app.post("/undo/:token", async (c) => {
    const token = c.req.param("token");
    const parsed = ResetPasswordSchema.safeParse(await readForm(c));
    // A dead link says so before anyone fixes fields for nothing.
    const link = await checkEmailUndoLink(deps, token);
    if (!link.ok) return linkPage(c, "email_undo", link.reason);
    if (!parsed.success) {
      return undoPage(c, token, link.undo.fromEmail, fieldErrors(parsed.error));
    }
    // Hashing the new password takes the link's turn first.
    const res = await withHashTurn(
      deps,
      c,
      { link: token },
      () => undoEmailChange(deps, token, parsed.data, requestClient(c, config)),
    );
    if (!res.ok && "retryAfterMs" in res) {
      return hashTurnRefusedPage(c, res);
    }
    if (!res.ok) {
      switch (res.reason) {
        case "fields":
          return undoPage(c, token, link.undo.fromEmail, res.errors);
        case "retry":
          return retryLaterPage(c);
        default:
          return linkPage(c, "email_undo", res.reason);
      }
    }
    // A fresh session: whatever this browser was signed in to ends here.
    const old = c.get("session");
    if (old) await deleteSession(deps.kv, old.idHash);
    setSessionCookie(c, config, res.session.token);
    setAccountNotice(c, config, "email_restored");
    return c.redirect("/account", 303);
  });

  return app;
}
