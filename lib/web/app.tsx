// Builds the Hono app from its dependencies: middleware, routes, and the one
// place errors and unknown paths are rendered.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { languageDetector } from "hono/language";
import { Layout } from "../../routes/_app.tsx";
import { Message } from "../../components/Message.tsx";
import { accountRoutes } from "../../routes/account.tsx";
import { activateRoutes } from "../../routes/activate.tsx";
import { loginRoutes, logoutRoutes } from "../../routes/login.tsx";
import { healthzRoutes } from "../../routes/healthz.ts";
import { passwordRoutes } from "../../routes/password.tsx";
import { registerRoutes } from "../../routes/register.tsx";
import { staticRoutes } from "../../routes/static.ts";
import { apiRoutes } from "../../routes/api/index.ts";
import { devMailRoutes } from "../../routes/dev_mail.tsx";
import { langRoutes } from "../../routes/lang.ts";
import { apiError, isApiPath } from "../../routes/api/errors.ts";
import type { AppDeps } from "../app/deps.ts";
import {
  type AppContext,
  type AppEnv,
  cookieCount,
  pageInfo,
  readCookie,
  renderPage,
  SESSION_COOKIE,
} from "./http.ts";
import { countRateLimited } from "../app/metrics.ts";
import { isAllowedFetchSite, isAllowedOrigin } from "./origins.ts";
import { PasswordsBusyError } from "../security/passwords.ts";
import { loggedPath, requestIdOf } from "./request_log.ts";
import { isComplete, secureHeaders } from "./secure_headers.ts";
import { getSession, sessionMatchesEpoch } from "../accounts/sessions.ts";
import { getUser } from "../accounts/users.ts";

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config, kv, clock, log, i18n } = deps;
  const app = new Hono<AppEnv>();

  function errorPage(
    c: AppContext,
    status: 400 | 403 | 404 | 413 | 415 | 500 | 503,
    name:
      | "busy"
      | "malformed"
      | "forbidden"
      | "not_found"
      | "too_large"
      | "unsupported"
      | "server",
  ) {
    if (isApiPath(c.req.path)) {
      return apiError(c, status, name, `error.${name}_body`);
    }
    const page = pageInfo(c, config);
    const { t } = page;
    return renderPage(
      c,
      <Layout page={page} title={t(`error.${name}_title`)}>
        <Message
          title={t(`error.${name}_title`)}
          body={t(`error.${name}_body`)}
        >
          <p>
            <a href="/">{t("error.home")}</a>
          </p>
        </Message>
      </Layout>,
      status,
    );
  }

  app.use(async (c, next) => {
    const logging = log.enabled("info");
    const started = logging ? performance.now() : 0;
    // Echoed as X-Request-Id, so a person's report can be found in the log.
    const requestId = requestIdOf(c.req.header("X-Request-Id"));
    c.set("requestId", requestId);
    // Defaults for pages rendered before the language middleware ran.
    c.set("language", i18n.defaultLang);
    c.set("t", i18n.translator(i18n.defaultLang));
    c.set("languages", i18n.languages);
    c.set("user", null);
    c.set("session", null);
    await next();
    // Set on the finished response (not prepared before the handler), so a
    // handler that returns its own Response keeps it too.
    c.res.headers.set("X-Request-Id", requestId);
    // Every limit answers 429, pages and API alike: counted here, once.
    if (c.res.status === 429) countRateLimited(loggedPath(c));
    if (!logging) return;
    log.info("request", {
      requestId,
      method: c.req.method,
      // The matched pattern, not the URL: tokens never reach the log.
      path: loggedPath(c),
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });

  // gzip for clients that accept it: pages, the stylesheet and the islands.
  // Responses already encoded (the pre-rendered pages) pass through as is.
  const compressBody = compress();
  const done = () => Promise.resolve();
  app.use(async (c, next) => {
    await next();
    if (!isComplete(c.res)) await compressBody(c, done);
  });

  app.use(secureHeaders());

  // Form posts from another site are refused; Origin must be ours
  // (lib/web/origins.ts: only APP_ORIGIN in production).
  app.use(csrf({
    origin: (origin, c) => isAllowedOrigin(config, origin, c.req.url),
    secFetchSite: (site, c) =>
      isAllowedFetchSite(config, site, c.req.header("origin"), c.req.url),
  }));

  app.use(bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: (c) => errorPage(c as AppContext, 413, "too_large"),
  }));

  const detectLanguage = (order: ("cookie" | "header")[]) =>
    languageDetector({
      supportedLanguages: i18n.langs,
      fallbackLanguage: i18n.defaultLang,
      order,
      lookupCookie: "lang",
      caches: false,
    });
  const byCookie = detectLanguage(["cookie", "header"]);
  const byHeader = detectLanguage(["header"]);
  // A "lang" cookie sent twice counts as none, like every cookie we read.
  app.use((c, next) =>
    cookieCount(c.req.header("Cookie") ?? "", "lang") > 1
      ? byHeader(c, next)
      : byCookie(c, next)
  );

  app.use(async (c, next) => {
    c.set("t", i18n.translator(c.get("language")));
    // Sent twice (one tossed in by someone else): nobody is signed in.
    const token = readCookie(c, config, SESSION_COOKIE);
    if (token) {
      const now = clock.now();
      const session = await getSession(kv, token, now);
      const user = session ? await getUser(kv, session.userId, now) : null;
      // A session from before the last password change is over.
      if (session && user?.isActive && sessionMatchesEpoch(session, user)) {
        c.set("session", session);
        c.set("user", user);
      }
    }
    await next();
  });

  app.get(
    "/",
    (c) => c.redirect(c.get("user") ? "/account" : "/register", 303),
  );
  app.route("/register", registerRoutes(deps));
  app.route("/activate", activateRoutes(deps));
  app.route("/login", loginRoutes(deps));
  app.route("/logout", logoutRoutes(deps));
  app.route("/account", accountRoutes(deps));
  app.route("/password", passwordRoutes(deps));
  app.route("/static", staticRoutes());
  app.route("/healthz", healthzRoutes(deps));
  app.route("/api", apiRoutes(deps));
  app.route("/lang", langRoutes(deps));
  if (deps.mailbox) app.route("/dev/mail", devMailRoutes(deps, deps.mailbox));

  app.notFound((c) => errorPage(c as AppContext, 404, "not_found"));

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status === 400) {
        return errorPage(c as AppContext, 400, "malformed");
      }
      if (err.status === 403) {
        return errorPage(c as AppContext, 403, "forbidden");
      }
      if (err.status === 413) {
        return errorPage(c as AppContext, 413, "too_large");
      }
      if (err.status === 404) {
        return errorPage(c as AppContext, 404, "not_found");
      }
      if (err.status === 415) {
        return errorPage(c as AppContext, 415, "unsupported");
      }
    }
    if (err instanceof PasswordsBusyError) {
      // Refused before anything was written: the client may simply retry.
      c.header("Retry-After", String(err.retryAfterSeconds));
      return errorPage(c as AppContext, 503, "busy");
    }
    log.error("unhandled error", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: loggedPath(c),
      error: err, // logged with its stack (error_stack)
    });
    return errorPage(c as AppContext, 500, "server");
  });

  return app;
}
