// A local stand-in for Resend's API on 127.0.0.1:0 that checks each request
// as Resend documents it (POST /emails, Bearer key, JSON from/to/subject and
// html or text, Idempotency-Key of 1-256 chars) and answers as Resend does:
// { id } on success, { statusCode, name, message } on error. A test can queue
// replies (429 with rate-limit headers, 500) to see how the app copes, and
// give it a rate limit, which it enforces as Resend does: over `perSecond`
// requests in the last second → 429 rate_limit_exceeded with ratelimit-* and
// retry-after headers (resend.com/docs/api-reference/rate-limit).

export interface ResendRequest {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  idempotencyKey: string | null;
  body: unknown;
  /** performance.now() when it arrived. */
  at: number;
  /** The status it got. */
  status?: number;
}

export interface Scripted {
  status: number;
  name: string;
  message: string;
  headers?: Record<string, string>;
  /** Accept (and record as sent) first, then answer with this error. */
  afterSending?: boolean;
}

export const RATE_LIMITED: Scripted = {
  status: 429,
  name: "rate_limit_exceeded",
  message:
    "Too many requests. You can only make 2 requests per second. See rate limit response headers for more information.",
  headers: {
    "ratelimit-limit": "2",
    "ratelimit-remaining": "0",
    "ratelimit-reset": "1",
    "retry-after": "1",
  },
};

export const SERVER_ERROR: Scripted = {
  status: 500,
  name: "application_error",
  message: "An unexpected error occurred.",
};

export interface SentByResend {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
}

export interface ResendServerOptions {
  /** Requests allowed in any one second; unlimited when absent. */
  perSecond?: number;
}

export async function startResendServer(
  apiKey: string,
  opts: ResendServerOptions = {},
) {
  const requests: ResendRequest[] = [];
  const sent: SentByResend[] = [];
  const script: Scripted[] = [];
  // Idempotency-Key → the body it came with and the id Resend answered.
  const seen = new Map<string, { body: string; id: string }>();

  const error = (s: Omit<Scripted, "afterSending">) =>
    Response.json(
      { statusCode: s.status, name: s.name, message: s.message },
      { status: s.status, headers: s.headers },
    );

  const recorded = new WeakMap<Request, ResendRequest>();
  const rateLimited = (now: number): Response | null => {
    if (opts.perSecond === undefined) return null;
    const recent = requests.filter((r) => now - r.at < 1000);
    if (recent.length <= opts.perSecond) return null;
    const reset = String(
      Math.max(1, Math.ceil((recent[0].at + 1000 - now) / 1000)),
    );
    return error({
      ...RATE_LIMITED,
      message:
        `Too many requests. You can only make ${opts.perSecond} requests per second. See rate limit response headers for more information.`,
      headers: {
        "ratelimit-limit": String(opts.perSecond),
        "ratelimit-remaining": "0",
        "ratelimit-reset": reset,
        "retry-after": reset,
      },
    });
  };

  const respond = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const raw = await req.text();
    const at = performance.now();
    let body: unknown = undefined;
    try {
      body = JSON.parse(raw);
    } catch { /* checked below */ }
    const key = req.headers.get("idempotency-key");
    const record: ResendRequest = {
      method: req.method,
      path: url.pathname,
      authorization: req.headers.get("authorization"),
      contentType: req.headers.get("content-type"),
      idempotencyKey: key,
      body,
      at,
    };
    requests.push(record);
    recorded.set(req, record);
    const limited = rateLimited(at);
    if (limited) return limited;
    if (url.pathname !== "/emails") {
      return error({ status: 404, name: "not_found", message: "Not found" });
    }
    if (req.method !== "POST") {
      return error({
        status: 405,
        name: "method_not_allowed",
        message: "Method not allowed",
      });
    }
    const auth = req.headers.get("authorization");
    if (!auth || !/^Bearer \S+$/.test(auth)) {
      return error({
        status: 401,
        name: "missing_api_key",
        message: "Missing API key in the authorization header.",
      });
    }
    if (auth !== `Bearer ${apiKey}`) {
      return error({
        status: 403,
        name: "invalid_api_key",
        message: "API key is invalid.",
      });
    }
    if (key !== null && (key.length < 1 || key.length > 256)) {
      return error({
        status: 400,
        name: "invalid_idempotency_key",
        message: "The key must be between 1-256 chars.",
      });
    }
    const mail = body as Partial<SentByResend> | undefined;
    if (
      !req.headers.get("content-type")?.startsWith("application/json") ||
      typeof mail !== "object" || mail === null
    ) {
      return error({
        status: 422,
        name: "validation_error",
        message: "Invalid JSON body.",
      });
    }
    for (const field of ["from", "to", "subject"] as const) {
      if (!mail[field]) {
        return error({
          status: 422,
          name: "missing_required_field",
          message: `The \`${field}\` field is missing.`,
        });
      }
    }
    if (!mail.html && !mail.text) {
      return error({
        status: 422,
        name: "validation_error",
        message: "Either `html` or `text` must be provided.",
      });
    }
    if (!/^(.+ <[^<>\s]+@[^<>\s]+>|[^<>\s]+@[^<>\s]+)$/.test(mail.from!)) {
      return error({
        status: 422,
        name: "invalid_from_address",
        message:
          "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
      });
    }
    if (key !== null) {
      const before = seen.get(key);
      if (before && before.body !== raw) {
        return error({
          status: 409,
          name: "invalid_idempotent_request",
          message:
            "Same idempotency key used with a different request payload.",
        });
      }
      // Resend answers a repeat with the first response, sending nothing.
      if (before) return Response.json({ id: before.id });
    }
    const next = script.shift();
    if (next && !next.afterSending) return error(next);
    const id = crypto.randomUUID();
    sent.push({ ...(mail as SentByResend), id });
    if (key !== null) seen.set(key, { body: raw, id });
    if (next) return error(next);
    return Response.json({ id });
  };

  const handle = async (req: Request): Promise<Response> => {
    const res = await respond(req);
    const record = recorded.get(req);
    if (record) record.status = res.status;
    return res;
  };

  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => ready.resolve(addr),
  }, handle);
  const addr = await ready.promise;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    sent,
    /** The next requests get these answers, in order. */
    reply(...replies: Scripted[]) {
      script.push(...replies);
    },
    close: () => server.shutdown(),
  };
}
