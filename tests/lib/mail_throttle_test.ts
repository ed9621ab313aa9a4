// The per-instance mail rate limit, against the local Resend stand-in.
import assert from "node:assert/strict";
import { createResendMailer } from "../../lib/mail/resend.ts";
import { createThrottledMailer } from "../../lib/mail/throttle.ts";
import { type Mail, MailDeferredError } from "../../lib/mail/types.ts";
import { RATE_LIMITED, startResendServer } from "../resend_server.ts";

const KEY = "re_throttle_test";
const mail = (n: number): Mail => ({
  to: `t${n}@example.test`,
  subject: "Hello",
  text: `mail ${n}`,
  html: `<p>mail ${n}</p>`,
});

async function setup(perSecond: number, maxWaitMs = 20_000) {
  const server = await startResendServer(KEY);
  const inner = createResendMailer({
    from: "app <no-reply@example.test>",
    apiKey: KEY,
    baseUrl: server.url,
  });
  return {
    server,
    mailer: createThrottledMailer(inner, { perSecond, maxWaitMs }),
    inner,
    async [Symbol.asyncDispose]() {
      await server.close();
    },
  };
}

Deno.test("throttle: no limit gives the backend back as it is", async () => {
  await using t = await setup(0);
  assert.equal(t.mailer, t.inner);
});

Deno.test("throttle: a slot further away than the longest wait defers the mail, untried", async () => {
  await using t = await setup(1, 500);
  const [first, second] = await Promise.allSettled([
    t.mailer.send(mail(1)),
    t.mailer.send(mail(2)),
  ]);
  assert.equal(first.status, "fulfilled");
  assert.equal(second.status, "rejected");
  const err = (second as PromiseRejectedResult).reason;
  assert.ok(err instanceof MailDeferredError, String(err));
  assert.equal(err.temporary, true);
  assert.ok(err.opts.retryAfterMs! > 500);
  assert.equal(t.server.requests.length, 1);
});

Deno.test("throttle: a 429 holds back the sends already waiting for their slot", async () => {
  await using t = await setup(4);
  await t.mailer.send(mail(1));
  // The next request is refused with Retry-After: 1 while the two after it
  // already wait for their slots (275 ms apart).
  t.server.reply(RATE_LIMITED);
  const results = await Promise.allSettled(
    [2, 3, 4].map((n) => t.mailer.send(mail(n))),
  );
  assert.deepEqual(results.map((r) => r.status), [
    "rejected",
    "fulfilled",
    "fulfilled",
  ]);
  const [, refused, third] = t.server.requests;
  assert.equal(refused.status, 429);
  assert.equal(third.status, 200);
  // They waited out the provider's second instead of going at their slots.
  assert.ok(
    third.at - refused.at >= 950,
    `the next request came ${
      Math.round(third.at - refused.at)
    } ms after the 429`,
  );
});
