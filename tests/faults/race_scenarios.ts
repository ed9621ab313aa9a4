// Race scenarios shared by `deno task test` (small) and `deno task soak`
// (the full count from the issue).
import assert from "node:assert/strict";
import { countPrefix, startTestApp, type TestApp } from "../helpers.ts";
import { checkStore } from "./store_check.ts";
import { keys } from "../../lib/kv/keys.ts";

export async function waitForEmptyOutbox(app: TestApp): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await countPrefix(app.kv, keys.outbox()) === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the outbox never emptied");
}

/** `n` registrations of one email at once → one user, one mail. */
export async function raceRegistrations(n: number): Promise<void> {
  // A queue as long as the burst: this is about the KV commit race, and the
  // default queue bound would shed most of 200 at once with 503.
  await using app = await startTestApp({
    env: { PASSWORD_WORKERS: "2", PASSWORD_QUEUE_LIMIT: String(n) },
  });
  const results = await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        app.browser().register({
          // Names are letters only: i in base 26, digits as a…z.
          first_name: "Ada " + [...i.toString(26)]
            .map((d) => String.fromCharCode(97 + parseInt(d, 26))).join(""),
        }),
    ),
  );
  // Every one of them sees the same answer: taken and free look alike.
  assert.deepEqual(
    new Set(results.map((r) => `${r.status} ${r.location}`)),
    new Set(["303 /register/done"]),
  );
  await waitForEmptyOutbox(app);
  // Give a duplicate (if any) time to show up before counting.
  await new Promise((r) => setTimeout(r, 200));
  const users = await countPrefix(app.kv, keys.users());
  assert.equal(users, 1);
  assert.equal(await countPrefix(app.kv, ["users_by_email"]), 1);
  assert.equal(app.mailer.sent.length, 1);
  assert.equal(app.mailer.sent[0].to, "ada@example.com");
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
  console.log(
    `${n} concurrent registrations → ${users} user, ${app.mailer.sent.length} mail`,
  );
}
