// The middleware every request passes, in order, before its route. Two
// groups: `everyRequest` (request id and log line, the page renderer, gzip,
// security headers) runs for everything, static files included;
// `pageRequests` (CSRF, body limit, language, session) runs for the pages and
// the API only, so a stylesheet never costs the session's two KV reads.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import { csrf } from "hono/csrf";
import { languageDetector } from "hono/language";
import { render } from "preact-render-to-string";
import { App } from "./_app.tsx";
import type { AppDeps } from "../lib/app/deps.ts";
import { countRateLimited } from "../lib/app/metrics.ts";
import {
  getSession,
  isDueForTouch,
  sessionMatchesEpoch,
  touchSession,
} from "../lib/accounts/sessions.ts";
import { getUser } from "../lib/accounts/users.ts";
import { errorPage } from "../lib/web/error_pages.tsx";
import {
  type AppContext,
  type AppEnv,
  cookieCount,
  pageInfo,
  readCookie,
  SESSION_COOKIE,
} from "../lib/web/http.ts";
import { isAllowedFetchSite, isAllowedOrigin } from "../lib/web/origins.ts";
import "../lib/web/render.ts";
import { loggedPath, requestIdOf } from "../lib/web/request_log.ts";
import { isComplete, secureHeaders } from "../lib/web/secure_headers.ts";

type Middleware = MiddlewareHandler<AppEnv>;

export function everyRequest(deps: AppDeps): Middleware[] {
  const { config, log, i18n } = deps;

  const requestLog: Middleware = async (c, next) => {
    const logging = log.enabled("info");
    // Date.now(), not performance.now(): whole milliseconds are all the line
    // shows, and it costs no call into the runtime.
    const started = logging ? Date.now() : 0;
    // Echoed as X-Request-Id, so a person's report can be found in the log.
    const requestId = requestIdOf(c.req.header("X-Request-Id"));
    c.set("requestId", requestId);
    // Defaults for pages rendered before the language middleware ran.
    c.set("language", i18n.defaultLang);
    c.set("t", i18n.translator(i18n.defaultLang));
    c.set("languages", i18n.languages);
    c.set("user", null);
    c.set("session", null);
    // The frame is filled in when the page is rendered, so it sees the
    // language and the session the later middleware found.
    c.setRenderer((content, { title, status = 200, scripts, path }) =>
      c.html(
        "<!doctype html>" +
          render(
            <App
              page={{
                ...pageInfo(c as AppContext, config),
                ...(path && { path }),
              }}
              title={title}
              scripts={scripts}
            >
              {content}
            </App>,
          ),
        status,
      )
    );
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
      ms: Date.now() - started,
    });
  };

  // gzip for clients that accept it: pages, the stylesheet and the islands.
  // Responses already encoded (the pre-rendered pages) pass through as is.
  const compressBody = compress();
  const done = () => Promise.resolve();
  const gzip: Middleware = async (c, next) => {
    await next();
    if (!isComplete(c.res)) await compressBody(c, done);
  };

  return [requestLog, gzip, secureHeaders()];
}

export function pageRequests(deps: AppDeps): Middleware[] {
  const { config, kv, clock, i18n } = deps;

  // Form posts from another site are refused; Origin must be ours
  // (lib/web/origins.ts: only APP_ORIGIN in production).
  const sameSite: Middleware = csrf({
    origin: (origin, c) => isAllowedOrigin(config, origin, c.req.url),
    secFetchSite: (site, c) =>
      isAllowedFetchSite(config, site, c.req.header("origin"), c.req.url),
  });

  const limitBody: Middleware = bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: (c) => errorPage(c as AppContext, "too_large"),
  });

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
  const language: Middleware = (c, next) =>
    cookieCount(c.req.header("Cookie") ?? "", "lang") > 1
      ? byHeader(c, next)
      : byCookie(c, next);

  const session: Middleware = async (c, next) => {
    c.set("t", i18n.translator(c.get("language")));
    // Sent twice (one tossed in by someone else): nobody is signed in.
    const token = readCookie(c, config, SESSION_COOKIE);
    if (token) {
      const now = clock.now();
      const found = await getSession(kv, token, now);
      const user = found ? await getUser(kv, found.userId, now) : null;
      // A session from before the last password change is over.
      if (found && user?.isActive && sessionMatchesEpoch(found, user)) {
        c.set("session", found);
        c.set("user", user);
        // "Last used" for the sessions page: one write per session every
        // few minutes, not one per request. A failed write costs nothing
        // but an older time shown.
        if (isDueForTouch(found, now)) {
          await touchSession(kv, found.idHash, now).catch((error) =>
            deps.log.warn("session touch failed", { error })
          );
        }
      }
    }
    await next();
  };

  return [sameSite, limitBody, language, session];
}
