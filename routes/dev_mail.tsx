// /dev/mail: the mails the app sent, readable in the browser with clickable
// links, so a developer can walk every flow without a mail server. Mounted
// only when lib/app/server.ts made a mailbox (DEV_MAIL=1 in development with
// console/memory mail); everywhere else the path is an ordinary 404.
import { Hono } from "hono";
import type { AppDeps } from "../lib/app/deps.ts";
import type { AppContext, AppEnv } from "../lib/web/http.ts";
import { isDirectFromLoopback } from "../lib/web/request_limits.tsx";
import { markComplete, SECURE_HEADERS } from "../lib/web/secure_headers.ts";
import type { Mailbox } from "../lib/mail/recording.ts";

const URL_RE = /(https?:\/\/[^\s<>"]+)/g;

/** Text with every URL turned into a link; everything else stays text. */
function Linkified({ text }: { text: string }) {
  const parts = text.split(URL_RE);
  return (
    <pre class="mail-body">
      {parts.map((part, i) =>
        i % 2 === 1 ? <a key={i} href={part}>{part}</a> : part
      )}
    </pre>
  );
}

/**
 * The mail's HTML as a mail client shows it: its inline styles apply, its
 * links work, and nothing in it runs (a sandbox with no scripts, no
 * same-origin access and nothing fetched from anywhere).
 */
const MAIL_HTML_POLICY = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "frame-ancestors 'none'",
  "sandbox allow-popups allow-popups-to-escape-sandbox",
].join("; ");

function mailHtmlResponse(html: string): Response {
  const headers = new Headers(SECURE_HEADERS as [string, string][]);
  headers.set("Content-Security-Policy", MAIL_HTML_POLICY);
  headers.set("Content-Type", "text/html; charset=utf-8");
  return markComplete(new Response(html, { headers }));
}

/**
 * Only the developer's own browser, straight to the server: a loopback
 * peer, no proxy in between (behind a local proxy or tunnel every visitor
 * is "loopback"), and the Host the app is configured for (a DNS-rebinding
 * page reaches a loopback server under its own host name).
 */
function isDeveloper(c: AppContext, appOrigin: string): boolean {
  return isDirectFromLoopback(c) &&
    c.req.header("host") === new URL(appOrigin).host;
}

export function devMailRoutes(deps: AppDeps, mailbox: Mailbox) {
  const { config } = deps;
  const app = new Hono<AppEnv>();
  // Every link the app mailed is readable here: only from this machine, even
  // when a development server listens on all interfaces.
  app.use(async (c, next) => {
    if (!isDeveloper(c, config.appOrigin)) return c.notFound();
    await next();
    // Set on the response itself: c.header() would copy it into a new one,
    // losing the mark that the HTML view's headers are complete.
    c.res.headers.set("Cache-Control", "no-store");
  });

  app.get("/", (c) => {
    const mails = mailbox.list();
    return c.render(
      <>
        <h1>Sent mail</h1>
        <p class="aside">
          Development only: the last {mails.length}{" "}
          mails this process sent, newest first.
        </p>
        {mails.length === 0
          ? <p>No mail yet.</p>
          : (
            <ol class="mail-list" reversed>
              {mails.map((m) => (
                <li key={m.id}>
                  <a href={`/dev/mail/${m.id}`}>{m.subject}</a> → {m.to}{" "}
                  <time datetime={new Date(m.sentAt).toISOString()}>
                    {new Date(m.sentAt).toISOString()}
                  </time>
                </li>
              ))}
            </ol>
          )}
      </>,
      { title: "Sent mail" },
    );
  });

  app.get("/:id{[0-9]+}", (c) => {
    const mail = mailbox.get(Number(c.req.param("id")));
    if (!mail) return c.notFound();
    return c.render(
      <>
        <p>
          <a href="/dev/mail">← Sent mail</a>
        </p>
        <h1>{mail.subject}</h1>
        <dl class="facts">
          <dt>To</dt>
          <dd>{mail.to}</dd>
          <dt>Sent</dt>
          <dd>{new Date(mail.sentAt).toISOString()}</dd>
        </dl>
        <Linkified text={mail.text} />
        <p>
          <a href={`/dev/mail/${mail.id}/html`}>The HTML part, as sent</a>
        </p>
        <details>
          <summary>HTML source</summary>
          <pre class="mail-body">{mail.html}</pre>
        </details>
      </>,
      { title: mail.subject },
    );
  });

  app.get("/:id{[0-9]+}/html", (c) => {
    const mail = mailbox.get(Number(c.req.param("id")));
    return mail ? mailHtmlResponse(mail.html) : c.notFound();
  });

  return app;
}
