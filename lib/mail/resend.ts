// Sends through Resend's HTTPS API (POST /emails), for platforms that refuse
// outbound SMTP such as Deno Deploy. Errors follow Resend's documented shape,
// { statusCode, name, message }: rate limits (429), provider outages (5xx)
// and a concurrent request with our idempotency key (409
// concurrent_idempotent_requests) are temporary; a key already used with
// another body (409 invalid_idempotent_request) is permanent, since Resend's
// docs say retrying it "is useless without changing the idempotency key or
// payload" (resend.com/docs/dashboard/emails/idempotency-keys); anything else
// (401/403 key problems, 422 invalid sender) needs the operator.
import { type Logger, silentLogger } from "../app/log.ts";
import { assertSafeMail } from "./headers.ts";
import { type Mailer, MailSendError } from "./types.ts";

export const RESEND_BASE_URL = "https://api.resend.com";
const TIMEOUT_MS = 15_000;

export interface ResendMailerOptions {
  from: string;
  apiKey: string;
  /** Tests point this at 127.0.0.1. */
  baseUrl?: string;
  logger?: Logger;
  userAgent?: string;
  timeoutMs?: number;
}

/** Retry-After is either seconds or an HTTP date. */
function parseRetryAfter(value: string | null, now = Date.now()) {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long Resend asks us to wait: `retry-after`, else (on a 429 without it)
 * `ratelimit-reset`, the seconds until the window resets
 * (resend.com/docs/api-reference/rate-limit).
 */
function waitAsked(res: Response): number | undefined {
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  if (retryAfter !== undefined || res.status !== 429) return retryAfter;
  const reset = res.headers.get("ratelimit-reset")?.trim();
  return reset && /^\d+$/.test(reset) ? Number(reset) * 1000 : undefined;
}

/**
 * The caller's key plus a digest of the exact body: Resend refuses a key
 * reused with another payload (409 invalid_idempotent_request), and a retry
 * may render differently (the user re-registered, MAIL_FROM changed, a new
 * release). Same body, same key: a lost answer is never sent twice; another
 * body is another mail.
 */
async function idempotencyKeyFor(base: string, body: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)),
  );
  // Resend takes 1-256 characters; the digest is 43.
  return `${base.slice(0, 200)}/${
    digest.toBase64({ alphabet: "base64url", omitPadding: true })
  }`;
}

async function readError(
  res: Response,
): Promise<{ name?: string; message: string }> {
  const body = await res.text();
  try {
    const json = JSON.parse(body);
    if (json && typeof json.message === "string") {
      return {
        name: typeof json.name === "string" ? json.name : undefined,
        message: json.message,
      };
    }
  } catch {
    // Not JSON: a proxy's error page; keep its first line.
  }
  return { message: body.split("\n")[0].slice(0, 200) || res.statusText };
}

export function createResendMailer(opts: ResendMailerOptions): Mailer {
  const {
    logger = silentLogger,
    timeoutMs = TIMEOUT_MS,
    userAgent = "cloud-user",
  } = opts;
  const endpoint = new URL(
    "emails",
    (opts.baseUrl ?? RESEND_BASE_URL).replace(/\/*$/, "/"),
  );
  let closed = false;

  return {
    async send(mail) {
      assertSafeMail(mail, opts.from);
      if (closed) throw new Error("resend mailer is closed");
      const headers = new Headers({
        "Authorization": `Bearer ${opts.apiKey}`,
        "Content-Type": "application/json",
        "User-Agent": userAgent,
      });
      const body = JSON.stringify({
        from: opts.from,
        to: [mail.to],
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
      });
      if (mail.idempotencyKey) {
        headers.set(
          "Idempotency-Key",
          await idempotencyKeyFor(mail.idempotencyKey, body),
        );
      }
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        // Unreachable or too slow: the mail may or may not have gone out; the
        // idempotency key makes the retry safe either way.
        const why = err instanceof Error ? err.message : String(err);
        throw new MailSendError(`resend: request failed: ${why}`, {
          temporary: true,
        });
      }
      if (res.ok) {
        const body = await res.json().catch(() => ({}));
        logger.debug("mail sent", { provider: "resend", id: body?.id });
        return;
      }
      const { name, message } = await readError(res);
      const temporary = res.status === 429 || res.status >= 500 ||
        (res.status === 409 && name === "concurrent_idempotent_requests");
      throw new MailSendError(
        `resend: ${res.status}${name ? ` ${name}` : ""}: ${message}`,
        {
          temporary,
          permanent: name === "invalid_idempotent_request",
          status: res.status,
          code: name,
          retryAfterMs: waitAsked(res),
        },
      );
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
