// /register: the sign-up form, its POST, and the "check your inbox" page.
// Long by design: the route builder holds this flow's handlers, each short
// (see README, Project layout).
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { Island, pickMessages } from "../components/Island.tsx";
import { KEEP_TYPED_SCRIPT } from "./_app.tsx";
import { LimitNotice } from "../components/LimitNotice.tsx";
import { CheckInboxPage, lifetimes } from "../components/Message.tsx";
import { ResendForm } from "../components/ResendForm.tsx";
import { deliverSoon, registerAccount } from "../lib/accounts/accounts.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import { type AppContext, type AppEnv, cookieCount } from "../lib/web/http.ts";
import { readForm } from "../lib/web/input.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { PageStatus } from "../lib/web/render.ts";
import { createPageCache } from "../lib/web/page_cache.ts";
import {
  markRegisteringBrowser,
  REGISTERED_COOKIE_MAX_AGE_MS,
} from "../lib/web/registrant.ts";
import { limitedSeconds, limitRequest } from "../lib/web/request_limits.tsx";
import {
  emailField,
  type FieldErrors,
  fieldErrors,
  RegisterSchema,
} from "../lib/accounts/schemas.ts";
import { REGISTER_FORM_MESSAGES } from "../islands/RegisterForm.tsx";

/**
 * The address the form was sent with, for the next page only: a typo shows
 * there, where it can still be fixed. The browser's own input, echoed to it.
 */
const SENT_TO_COOKIE = "sent_to";
const DONE_PATH = "/register/done";

/** "…to {email}…" with the address in bold; the words from the translation. */
function DoneBody(
  { t, lang, email, config }: {
    t: Translate;
    lang: string;
    email: string | null;
    config: AppDeps["config"];
  },
) {
  const MARK = "\u0000";
  const [before, after = ""] = t("done.body", {
    ...lifetimes(config, lang),
    email: email ? MARK : t("done.your_address"),
  }).split(MARK);
  return (
    <>
      {before}
      {email && <strong class="address">{email}</strong>}
      {after}
    </>
  );
}

interface RegisterPageProps {
  values?: { first_name?: string; email?: string };
  errors?: FieldErrors;
  /** After a 429: how long until the form is taken again. */
  waitSeconds?: number;
}

function RegisterPage(
  { t, lang, values = {}, errors = {}, waitSeconds }: RegisterPageProps & {
    t: Translate;
    lang: string;
  },
) {
  return (
    <>
      <h1>{t("register.title")}</h1>
      <p class="lead">{t("register.intro")}</p>
      {waitSeconds !== undefined && (
        <LimitNotice t={t} lang={lang} seconds={waitSeconds} />
      )}
      <Island
        name="RegisterForm"
        props={{
          messages: pickMessages(t, REGISTER_FORM_MESSAGES),
          values,
          errors,
          waitSeconds,
        }}
      />
      <p class="aside">
        {t("register.have_account")} <a href="/login">{t("nav.login")}</a>
      </p>
    </>
  );
}

function registerPage(
  c: AppContext,
  props: RegisterPageProps,
  status?: PageStatus,
  path?: string,
) {
  const t = c.get("t");
  return c.render(
    <RegisterPage t={t} lang={c.get("language")} {...props} />,
    {
      title: t("register.title"),
      status,
      path,
      scripts: [KEEP_TYPED_SCRIPT],
    },
  );
}

export function registerRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  // The empty form is the same for everyone in a language: render it once.
  const pages = createPageCache();
  app.get("/", (c) => {
    // Signed in already: a second account is not what they came for.
    if (c.get("user")) return c.redirect("/account", 303);
    return pages.serve(
      c,
      "register",
      // Rendered once for everyone: the language switcher must come back
      // to the bare page, not to the first visitor's query string.
      () => registerPage(c, {}, 200, "/register"),
    );
  });

  app.post("/", async (c) => {
    const form = await readForm(c);
    const parsed = RegisterSchema.safeParse(form);
    const values = { first_name: form.first_name, email: form.email };
    if (!parsed.success) {
      return registerPage(
        c,
        { values, errors: fieldErrors(parsed.error) },
        422,
      );
    }
    const limited = await limitRequest(deps, c, "register", parsed.data.email);
    if (!limited.ok) {
      // The same form with what was typed (never the password) and the wait.
      return registerPage(
        c,
        { values, waitSeconds: limitedSeconds(c, limited.retryAfterMs) },
        429,
      );
    }
    const res = await registerAccount(deps, parsed.data, c.get("language"));
    if (!res.ok) {
      return registerPage(
        c,
        { values, errors: { _form: "register.retry" } },
        503,
      );
    }
    // Names whoever set the account's credentials just now. An active
    // address's answer gets one too (its id matches nothing), so the two
    // answers cannot be told apart.
    await markRegisteringBrowser(c, deps, res.registrant);
    setCookie(c, SENT_TO_COOKIE, parsed.data.email, {
      httpOnly: true,
      sameSite: "Lax",
      path: DONE_PATH,
      secure: config.secureCookies,
      maxAge: REGISTERED_COOKIE_MAX_AGE_MS / 1000,
    });
    deliverSoon(deps, res.outboxId);
    return c.redirect(DONE_PATH, 303);
  });

  app.get("/done", (c) => {
    const t = c.get("t");
    // A second cookie of this name was planted: show no address rather than
    // one someone else chose.
    const once =
      cookieCount(c.req.header("Cookie") ?? "", SENT_TO_COOKIE) === 1;
    const sent = emailField.safeParse(
      once ? getCookie(c, SENT_TO_COOKIE) ?? "" : "",
    );
    const email = sent.success ? sent.data : null;
    return c.render(
      <CheckInboxPage
        t={t}
        title={t("done.title")}
        body={
          <DoneBody
            t={t}
            lang={c.get("language")}
            email={email}
            config={config}
          />
        }
      >
        <p class="hint">
          {t("done.wrong_address")}{" "}
          <a href="/register">{t("done.start_again")}</a>
        </p>
        <ResendForm t={t} email={email ?? undefined} />
      </CheckInboxPage>,
      { title: t("done.title") },
    );
  });

  return app;
}
