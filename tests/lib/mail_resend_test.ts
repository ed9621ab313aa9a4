// The Resend backend against a local server that checks requests as Resend
// documents them and answers with Resend's replies and errors.
import assert from "node:assert/strict";
import { createResendMailer } from "../../lib/mail/resend.ts";
import { type Mail, MailSendError } from "../../lib/mail/types.ts";
import {
  RATE_LIMITED,
  type Scripted,
  SERVER_ERROR,
  startResendServer,
} from "../resend_server.ts";

const KEY = "re_test_0123456789abcdef";
const FROM = "cloud-user <no-reply@cloud-user.test>";
const MAIL: Mail = {
  to: "zoe@example.test",
  subject: "Activate your cloud-user account",
  text: "Bienvenue, Zoé! http://localhost:8000/activate/abc\n",
  html:
    '<p>Bienvenue, Zoé! <a href="http://localhost:8000/activate/abc">go</a></p>',
  idempotencyKey: "user_registered/0192-abc",
};

Deno.test("resend: posts the mail to /emails as Resend documents it", async () => {
  const server = await startResendServer(KEY);
  const mailer = createResendMailer({
    from: FROM,
    apiKey: KEY,
    baseUrl: server.url,
    userAgent: "cloud-user/test",
  });
  try {
    await mailer.send(MAIL);
  } finally {
    await mailer.close();
    await server.close();
  }
  assert.equal(server.requests.length, 1);
  const [req] = server.requests;
  assert.equal(req.method, "POST");
  assert.equal(req.path, "/emails");
  assert.equal(req.authorization, `Bearer ${KEY}`);
  assert.equal(req.contentType, "application/json");
  // The caller's key plus a digest of the body (SHA-256, base64url).
  assert.match(req.idempotencyKey!, /^user_registered\/0192-abc\/[\w-]{43}$/);
  assert.deepEqual(req.body, {
    from: FROM,
    to: ["zoe@example.test"],
    subject: MAIL.subject,
    html: MAIL.html,
    text: MAIL.text,
  });
  assert.equal(server.sent.length, 1);
});

Deno.test("resend: a mail without an idempotency key sends no such header", async () => {
  const server = await startResendServer(KEY);
  const mailer = createResendMailer({
    from: FROM,
    apiKey: KEY,
    baseUrl: server.url,
  });
  try {
    await mailer.send({ ...MAIL, idempotencyKey: undefined });
  } finally {
    await server.close();
  }
  assert.equal(server.requests[0].idempotencyKey, null);
});

interface ErrorCase {
  name: string;
  apiKey?: string;
  from?: string;
  reply?: Scripted;
  status: number;
  code: string;
  temporary: boolean;
  message: RegExp;
  retryAfterMs?: number;
  permanent?: boolean;
}

const errorCases: ErrorCase[] = [
  {
    name: "a wrong API key is the operator's problem",
    apiKey: "re_wrong",
    status: 403,
    code: "invalid_api_key",
    temporary: false,
    message: /resend: 403 invalid_api_key: API key is invalid/,
  },
  {
    name: "a missing API key is the operator's problem",
    apiKey: " ",
    status: 401,
    code: "missing_api_key",
    temporary: false,
    message: /401 missing_api_key: Missing API key/,
  },
  {
    name: "an invalid sender is reported with Resend's message",
    from: "not an address",
    status: 422,
    code: "invalid_from_address",
    temporary: false,
    message: /422 invalid_from_address: Invalid `from` field/,
  },
  {
    name: "the rate limit is temporary and carries Retry-After",
    reply: RATE_LIMITED,
    status: 429,
    code: "rate_limit_exceeded",
    temporary: true,
    message: /429 rate_limit_exceeded: Too many requests/,
    retryAfterMs: 1000,
  },
  {
    name: "a daily quota is a 429 too, retried after Retry-After",
    reply: {
      status: 429,
      name: "daily_quota_exceeded",
      message: "You have reached your daily email sending quota.",
      headers: { "retry-after": "3600" },
    },
    status: 429,
    code: "daily_quota_exceeded",
    temporary: true,
    message: /daily_quota_exceeded/,
    retryAfterMs: 3_600_000,
  },
  {
    name: "a server error is temporary",
    reply: SERVER_ERROR,
    status: 500,
    code: "application_error",
    temporary: true,
    message: /500 application_error: An unexpected error occurred/,
  },
  {
    name: "a 429 without Retry-After waits for the window's reset",
    reply: {
      ...RATE_LIMITED,
      headers: { "ratelimit-remaining": "0", "ratelimit-reset": "2" },
    },
    status: 429,
    code: "rate_limit_exceeded",
    temporary: true,
    message: /429 rate_limit_exceeded/,
    retryAfterMs: 2000,
  },
  {
    name: "a key used with another payload is permanent, as Resend documents",
    reply: {
      status: 409,
      name: "invalid_idempotent_request",
      message: "Same idempotency key used with a different request payload.",
    },
    status: 409,
    code: "invalid_idempotent_request",
    temporary: false,
    permanent: true,
    message: /409 invalid_idempotent_request/,
  },
  {
    name: "a concurrent request with our key is temporary",
    reply: {
      status: 409,
      name: "concurrent_idempotent_requests",
      message:
        "Same idempotency key used while original request is still in progress.",
    },
    status: 409,
    code: "concurrent_idempotent_requests",
    temporary: true,
    message: /409 concurrent_idempotent_requests/,
  },
];

for (const c of errorCases) {
  Deno.test(`resend: ${c.name}`, async () => {
    const server = await startResendServer(KEY);
    if (c.reply) server.reply(c.reply);
    const mailer = createResendMailer({
      from: c.from ?? FROM,
      apiKey: c.apiKey ?? KEY,
      baseUrl: server.url,
    });
    try {
      const err = await mailer.send(MAIL).then(
        () => assert.fail("send should reject"),
        (e) => e,
      );
      assert.ok(err instanceof MailSendError, String(err));
      assert.match(err.message, c.message);
      assert.equal(err.opts.status, c.status);
      assert.equal(err.opts.code, c.code);
      assert.equal(err.temporary, c.temporary);
      assert.equal(err.opts.retryAfterMs, c.retryAfterMs);
      assert.equal(err.opts.permanent ?? false, c.permanent ?? false);
    } finally {
      await server.close();
    }
    assert.equal(server.sent.length, 0);
  });
}

Deno.test("resend: one key never carries two bodies; the same body keeps its key", async () => {
  const server = await startResendServer(KEY);
  const mailer = createResendMailer({
    from: FROM,
    apiKey: KEY,
    baseUrl: server.url,
  });
  try {
    // A retry that renders the same mail: Resend answers with the first id.
    await mailer.send(MAIL);
    await mailer.send(MAIL);
    // A retry that renders differently (the person re-registered as Zoë):
    // with the caller's key alone Resend would refuse it (409
    // invalid_idempotent_request) on every retry.
    await mailer.send({ ...MAIL, text: MAIL.text.replace("Zoé", "Zoë") });
  } finally {
    await server.close();
  }
  const [a, b, c] = server.requests.map((r) => r.idempotencyKey);
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.ok(c!.startsWith("user_registered/0192-abc/"));
  assert.equal(server.sent.length, 2);
  assert.match(server.sent[1].text!, /Zoë/);
});

Deno.test("resend: an unreachable API is a temporary failure", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const mailer = createResendMailer({
    from: FROM,
    apiKey: KEY,
    baseUrl: `http://127.0.0.1:${port}`,
  });
  const err = await mailer.send(MAIL).catch((e) => e);
  assert.ok(err instanceof MailSendError);
  assert.equal(err.temporary, true);
  assert.match(err.message, /^resend: request failed/);
});

Deno.test("resend: an API that does not answer in time is a temporary failure", async () => {
  const hang = Promise.withResolvers<void>();
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => ready.resolve(a),
  }, async () => {
    await hang.promise;
    return new Response("late");
  });
  const { port } = await ready.promise;
  const mailer = createResendMailer({
    from: FROM,
    apiKey: KEY,
    baseUrl: `http://127.0.0.1:${port}`,
    timeoutMs: 200,
  });
  try {
    const err = await mailer.send(MAIL).catch((e) => e);
    assert.ok(err instanceof MailSendError);
    assert.equal(err.temporary, true);
  } finally {
    hang.resolve();
    await server.shutdown();
  }
});

Deno.test("resend: header injection is refused before any request", async () => {
  const server = await startResendServer(KEY);
  const mailer = createResendMailer({
    from: FROM,
    apiKey: KEY,
    baseUrl: server.url,
  });
  try {
    await assert.rejects(
      mailer.send({ ...MAIL, subject: "Hi\r\nBcc: x@evil.example" }),
      { name: "InvalidMailError" },
    );
    await mailer.close();
    await assert.rejects(mailer.send(MAIL), /closed/);
  } finally {
    await server.close();
  }
  assert.equal(server.requests.length, 0);
});
