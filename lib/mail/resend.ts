// Sends through Resend's HTTPS API (POST /emails), for platforms that refuse
// outbound SMTP such as Deno Deploy. Errors follow Resend's documented shape,
// { statusCode, name, message }: rate limits (429), provider outages (5xx)
// and a concurrent request with our idempotency key (409) are temporary;
// anything else (401/403 key problems, 422 invalid sender) needs the operator.
import { type Logger, silentLogger } from "../log.ts";
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
      if (mail.idempotencyKey) {
        headers.set("Idempotency-Key", mail.idempotencyKey);
      }
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify({
            from: opts.from,
            to: [mail.to],
            subject: mail.subject,
            html: mail.html,
            text: mail.text,
          }),
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
          status: res.status,
          code: name,
          retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
        },
      );
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
