import assert from "node:assert/strict";
import { getUserByEmail } from "../../lib/accounts/users.ts";
import {
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  outboxDrained,
  startTestApp,
  type TestApp,
} from "../helpers.ts";

const NEW = "ada@example.org";

async function confirmToken(app: TestApp, to: string) {
  await outboxDrained(app);
  const mail = app.mailer.sent.findLast((m) => m.to === to)!;
  return linkPath(mail.text, "/account/email/confirm/").split("/").at(-1)!;
}

Deno.test("api: email change asks with the password, confirms with the token", async () => {
  await using app = await startTestApp();
  const client = await createActiveAccount(app);
  const res = await client.api("/api/email/change", {
    email: NEW,
    current_password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.json.status, "accepted");
  const token = await confirmToken(app, NEW);

  // Elsewhere than a session of the account, the password too.
  const other = app.browser();
  const asked = await other.api("/api/email/confirm", { token });
  assert.equal(asked.status, 422);
  assert.equal(asked.json.error.code, "password_required");
  const wrong = await other.api("/api/email/confirm", {
    token,
    current_password: "not the password at all",
  });
  assert.equal(
    wrong.json.error.fields.current_password.code,
    "current_password.wrong",
  );
  const ok = await other.api("/api/email/confirm", {
    token,
    current_password: GOOD_PASSWORD,
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.user.email, NEW);
  assert.equal(ok.headers.get("set-cookie"), null);
  assert.equal((await client.get("/api/me")).status, 200);
  assert.equal(JSON.parse((await client.get("/api/me")).body).user.email, NEW);

  const again = await other.api("/api/email/confirm", { token });
  assert.equal(again.status, 400);
  assert.equal(again.json.error.code, "invalid_token");
});

Deno.test("api: email change answers 202 for a taken address too", async () => {
  await using app = await startTestApp();
  const client = await createActiveAccount(app);
  await createActiveAccount(app, { email: "bob@example.com" });
  const taken = await client.api("/api/email/change", {
    email: "bob@example.com",
    current_password: GOOD_PASSWORD,
  });
  await outboxDrained(app);
  const free = await client.api("/api/email/change", {
    email: "free@example.com",
    current_password: GOOD_PASSWORD,
  });
  assert.equal(taken.status, 202);
  assert.deepEqual(taken.json, free.json);
  await outboxDrained(app);
  assert.equal(
    app.mailer.sent.findLast((m) => m.to === "bob@example.com")!.subject,
    "Someone tried to use your address at cloud-user",
  );
});

Deno.test("api: email change errors", async () => {
  await using app = await startTestApp();
  const anon = await app.browser().api("/api/email/change", {
    email: NEW,
    current_password: GOOD_PASSWORD,
  });
  assert.equal(anon.status, 401);
  assert.equal(anon.json.error.code, "unauthenticated");

  const client = await createActiveAccount(app);
  const wrong = await client.api("/api/email/change", {
    email: NEW,
    current_password: "not the password at all",
  });
  assert.equal(wrong.status, 422);
  assert.equal(
    wrong.json.error.fields.current_password.code,
    "current_password.wrong",
  );
  const bad = await client.api("/api/email/change", { email: "nope" });
  assert.equal(bad.status, 422);
  assert.deepEqual(Object.keys(bad.json.error.fields).sort(), [
    "current_password",
    "email",
  ]);
  const same = await client.api("/api/email/change", {
    email: "ada@example.com",
    current_password: GOOD_PASSWORD,
  });
  assert.equal(same.json.error.fields.email.code, "email_change.same");

  const forged = await client.api("/api/email/confirm", { token: "x.y" });
  assert.equal(forged.status, 400);
  assert.equal(forged.json.error.code, "invalid_token");
  const missing = await client.api("/api/email/confirm", {});
  assert.equal(missing.status, 422);
});

Deno.test("api: email confirm answers 409 when the address was taken since", async () => {
  await using app = await startTestApp();
  const client = await createActiveAccount(app);
  await client.api("/api/email/change", {
    email: NEW,
    current_password: GOOD_PASSWORD,
  });
  const token = await confirmToken(app, NEW);
  await app.browser().register({ email: NEW });
  const res = await client.api("/api/email/confirm", { token });
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, "email_taken");
  assert.equal(
    (await getUserByEmail(app.kv, "ada@example.com", app.clock.now()))?.email,
    "ada@example.com",
  );
});

Deno.test("api: a token of another purpose does not confirm an email change", async () => {
  await using app = await startTestApp();
  const client = await createActiveAccount(app);
  await app.browser().post("/password/forgot", { email: "ada@example.com" });
  await outboxDrained(app);
  const reset = linkPath(app.mailer.sent.at(-1)!.text, "/password/reset/");
  const res = await client.api("/api/email/confirm", {
    token: reset.split("/").at(-1),
  });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, "invalid_token");
});
