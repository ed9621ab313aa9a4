import assert from "node:assert/strict";
import {
  checkEmailChangeLink,
  confirmEmailChange,
  getEmailChange,
  requestEmailChange,
  signEmailChangeLink,
} from "../../lib/accounts/email_change.ts";
import { keys } from "../../lib/kv/keys.ts";
import { deleteUser } from "../../lib/accounts/user_admin.ts";
import { getUserByEmail } from "../../lib/accounts/users.ts";
import { checkStore } from "../faults/store_check.ts";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  outboxDrained,
  startTestApp,
  type TestApp,
} from "../helpers.ts";

async function userId(app: TestApp, email: string) {
  return (await getUserByEmail(app.kv, email, app.clock.now()))!.id;
}

/** Requests a change and signs its link, as the mail handler would. */
async function linkFor(app: TestApp, id: string, to: string) {
  const res = await requestEmailChange(app.deps, id, to);
  assert.ok(res.ok);
  const change = (await getEmailChange(app.kv, id))!;
  return await signEmailChangeLink(app.deps, id, change);
}

Deno.test("email change service: two accounts confirming one address at once, one wins", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  await createActiveAccount(app, { email: "bob@example.com" });
  const ada = await userId(app, "ada@example.com");
  const bob = await userId(app, "bob@example.com");
  const links = [
    { id: ada, token: await linkFor(app, ada, "shared@example.org") },
    { id: bob, token: await linkFor(app, bob, "shared@example.org") },
  ];
  const results = await Promise.all(
    links.map(({ id, token }) =>
      confirmEmailChange(app.deps, token, { signedInAs: id })
    ),
  );
  assert.deepEqual(
    results.map((r) => r.ok ? "ok" : r.reason).sort(),
    ["ok", "taken"],
  );
  const owner = await getUserByEmail(
    app.kv,
    "shared@example.org",
    app.clock.now(),
  );
  assert.ok(owner?.id === ada || owner?.id === bob);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
  await outboxDrained(app);
});

Deno.test("email change service: a registration past its TTL does not hold the address", async () => {
  await using app = await startTestApp({ env: { PENDING_USER_TTL: "1h" } });
  await createActiveAccount(app);
  await app.browser().register({ email: "stale@example.org" });
  await outboxDrained(app);
  app.clock.advance(3_600_001);
  const ada = await userId(app, "ada@example.com");
  const token = await linkFor(app, ada, "stale@example.org");
  const res = await confirmEmailChange(app.deps, token, { signedInAs: ada });
  assert.ok(res.ok);
  // The stale record went in the same commit; the index points at Ada.
  assert.equal(
    (await app.kv.get(keys.userByEmail("stale@example.org"))).value,
    ada,
  );
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
  await outboxDrained(app);
});

Deno.test("email change service: a link is bound to the request and the address it was asked from", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const ada = await userId(app, "ada@example.com");
  const token = await linkFor(app, ada, "new@example.org");
  assert.ok((await checkEmailChangeLink(app.deps, token)).ok);
  // The same request, as if asked from another address: another digest.
  const change = (await getEmailChange(app.kv, ada))!;
  const forged = await signEmailChangeLink(app.deps, ada, {
    ...change,
    fromEmail: "someone@else.test",
  });
  assert.deepEqual(await checkEmailChangeLink(app.deps, forged), {
    ok: false,
    reason: "invalid",
  });
  // The record gone (expired, replaced, confirmed): the link is dead.
  await app.kv.delete(keys.emailChange(ada));
  assert.deepEqual(await checkEmailChangeLink(app.deps, token), {
    ok: false,
    reason: "invalid",
  });
});

Deno.test("email change service: a taken address retires the pending request and queues one notice", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  await createActiveAccount(app, { email: "bob@example.com" });
  await outboxDrained(app);
  const ada = await userId(app, "ada@example.com");
  const token = await linkFor(app, ada, "new@example.org");
  const res = await requestEmailChange(app.deps, ada, "bob@example.com");
  assert.ok(res.ok && res.outboxId);
  assert.equal(await getEmailChange(app.kv, ada), null);
  assert.equal((await checkEmailChangeLink(app.deps, token)).ok, false);
  await outboxDrained(app);
});

Deno.test("email change service: confirming needs the account's session or password", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const ada = await userId(app, "ada@example.com");
  const token = await linkFor(app, ada, "new@example.org");
  for (
    const proof of [
      { signedInAs: null },
      { signedInAs: "someone-else" },
      { password: "not the password at all" },
    ]
  ) {
    const res = await confirmEmailChange(app.deps, token, proof);
    assert.equal(res.ok ? "ok" : res.reason, "password_required");
  }
  assert.equal(await userId(app, "ada@example.com"), ada);
  const res = await confirmEmailChange(app.deps, token, {
    password: GOOD_PASSWORD,
  });
  assert.ok(res.ok);
});

Deno.test("email change service: deleting the user deletes its change and undo records", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const ada = await userId(app, "ada@example.com");
  const token = await linkFor(app, ada, "new@example.org");
  assert.ok(
    (await confirmEmailChange(app.deps, token, { signedInAs: ada })).ok,
  );
  await linkFor(app, ada, "newer@example.org");
  await outboxDrained(app);
  const res = await deleteUser(app.kv, "new@example.org", {
    now: app.clock.now(),
    queue: false,
  });
  assert.ok(res.ok);
  assert.equal(await getEmailChange(app.kv, ada), null);
  assert.equal(await countPrefix(app.kv, keys.emailUndos(ada)), 0);
  // Rate-limit records keyed by the address are issue 15's deletion item.
});
