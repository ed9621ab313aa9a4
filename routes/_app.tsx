// The frame of every page: head, header with navigation, footer.
import type { ComponentChildren } from "preact";
import type { PageInfo } from "../lib/web/http.ts";

/**
 * For pages whose forms take a name or an address: switching language keeps
 * what was typed. In the head, so it runs before any island reads the
 * fields.
 */
export const KEEP_TYPED_SCRIPT = "/static/keep_fields.js";

export interface AppProps {
  page: PageInfo;
  title: string;
  children: ComponentChildren;
  /** Scripts (served from /static) this page needs. */
  scripts?: string[];
}

export function App(props: AppProps) {
  const { t, lang, appName, signedIn, languages, path } = props.page;
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · ${appName}`}</title>
        <link rel="stylesheet" href="/static/styles.css" />
        {props.scripts?.map((src) => (
          <script key={src} type="module" src={src} defer />
        ))}
      </head>
      <body>
        <a class="skip-link" href="#main">{t("nav.skip")}</a>
        <header class="site-header">
          <a class="brand" href="/">{appName}</a>
          <nav aria-label="Main">
            {signedIn
              ? (
                <>
                  <a href="/account">{t("nav.account")}</a>
                  <form method="post" action="/logout" class="inline">
                    <button type="submit" class="link">
                      {t("nav.logout")}
                    </button>
                  </form>
                </>
              )
              : (
                <>
                  <a href="/login">{t("nav.login")}</a>
                  <a href="/register">{t("nav.register")}</a>
                </>
              )}
          </nav>
        </header>
        {/* tabIndex: the skip link moves focus here, not only the view. */}
        <main id="main" class="card" tabIndex={-1}>{props.children}</main>
        <footer class="site-footer">
          <form method="post" action="/lang" class="lang-switcher">
            <input type="hidden" name="next" value={path} />
            <fieldset>
              <legend>{t("footer.language")}</legend>
              {languages.map((l) => (
                <button
                  key={l.code}
                  type="submit"
                  name="lang"
                  value={l.code}
                  lang={l.code}
                  class="link"
                  aria-current={l.code === lang ? "true" : undefined}
                >
                  {l.name}
                </button>
              ))}
            </fieldset>
          </form>
        </footer>
      </body>
    </html>
  );
}
