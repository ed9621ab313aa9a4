// "Didn't get the email?" and "Forgot your password?" answer before they
// touch the account: a pending address costs a commit and an unknown one a
// read, so work done before the answer would let response times list who
// has an account. Shown without a clock: the account's commit is held back,
// and the answer still arrives.
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import type { User } from "../../lib/accounts/users.ts";
import {
  createActiveAccount,
  outboxDrained,
  startTestApp,
  type TestApp,
} from "../helpers.ts";
import { watchCommits } from "../kv_commits.ts";

/**
 * The same KV, except that while `hold` is set, a commit that writes a user
 * record waits for it. Everything else (the rate limits) goes through.
 */
function holdingUserCommits(kv: Deno.Kv, gate: { hold: Promise<void> | null }) {
  return watchCommits(kv, async (mutations) => {
    const writesUser = mutations.some((m) =>
      m.op === "set" && m.key[0] === keys.users()[0]
    );
    if (writesUser && gate.hold) await gate.hold;
  });
}

const CASES: [string, string, (app: TestApp) => Promise<unknown>][] = [
  // "Didn't get the email?" for a pending account: a new link.
  ["resend", "/activate/resend", (app) => app.browser().register()],
  // "Forgot your password?" for an active one: a reset link.
  ["forgot", "/password/forgot", (app) => createActiveAccount(app)],
];

for (const [name, path, setUp] of CASES) {
  Deno.test(`${name}: the answer does not wait for the account's commit`, async () => {
    const gate: { hold: Promise<void> | null } = { hold: null };
    await using app = await startTestApp({
      wrapKv: (kv) => holdingUserCommits(kv, gate),
    });
    await setUp(app);
    await outboxDrained(app);
    const mailsBefore = app.mailer.sent.length;
    const user = async () => {
      const id = await app.kv.get<string>(keys.userByEmail("ada@example.com"));
      return (await app.kv.get<User>(keys.user(id.value!))).value!;
    };
    const before = await user();

    const release = Promise.withResolvers<void>();
    gate.hold = release.promise;
    try {
      // A deadlock guard, not a timing goal: an answer that waited for the
      // held commit would never come.
      const res = await app.browser().request("POST", path, {
        form: { email: "ada@example.com" },
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(res.status, 303);
      // Answered while the account's write is still held back.
      assert.deepEqual(await user(), before);
      assert.equal(app.mailer.sent.length, mailsBefore);
    } finally {
      // Let go in any case, or shutdown would wait for the held request.
      gate.hold = null;
      release.resolve();
    }
    await outboxDrained(app);
    assert.notDeepEqual(await user(), before);
    assert.equal(
      (await app.mailer.waitFor(mailsBefore + 1)).at(-1)!.to,
      "ada@example.com",
    );
  });
}
