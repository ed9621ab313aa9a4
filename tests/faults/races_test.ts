// Races against the real app and real KV: many requests at once must leave
// exactly one of each thing behind.
import assert from "node:assert/strict";
import { countPrefix, startTestApp } from "../helpers.ts";
import type { User } from "../../lib/accounts/users.ts";
import { raceRegistrations } from "./race_scenarios.ts";
import { checkStore } from "./store_check.ts";
import { keys } from "../../lib/kv/keys.ts";

Deno.test("race: 30 concurrent registrations of one email → one user, one mail", async () => {
  // The 200-strong version runs in `deno task soak` (races_soak.ts).
  await raceRegistrations(30);
});

Deno.test("race: 50 concurrent clicks on one activation link → one activation, one session", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const path = await app.activationPath();
  const results = await Promise.all(
    // Fifty tabs of the browser that registered.
    Array.from({ length: 50 }, () => owner.tab().post(path)),
  );
  const statuses = results.map((r) => r.status);
  assert.ok(statuses.every((s) => s === 303), `statuses ${statuses}`);
  const winners = results.filter((r) => r.location === "/account");
  const cookies = results.filter((r) =>
    r.headers.getSetCookie().some((c) => c.startsWith("session="))
  );
  assert.equal(winners.length, 1);
  assert.equal(cookies.length, 1);
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  assert.equal(await countPrefix(app.kv, ["sessions_by_user"]), 1);
  const id = (await app.kv.get<string>(keys.userByEmail("ada@example.com")))
    .value!;
  const user = (await app.kv.get<User>(keys.user(id))).value!;
  assert.equal(user.isActivated, true);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
  console.log(
    `50 concurrent activation clicks → ${winners.length} activation, ${await countPrefix(
      app.kv,
      ["sessions"],
    )} session`,
  );
});

Deno.test("race: registrations racing the expiry of a pending user leave no orphan", async () => {
  // Real time on both sides: KV's own expiry and the app's liveness check.
  await using app = await startTestApp({
    env: { PENDING_USER_TTL: "1s", PASSWORD_WORKERS: "2" },
  });
  app.clock.now = () => Date.now();
  const first = await app.browser().register({ first_name: "Old" });
  assert.equal(first.status, 303);
  const oldId = (await app.kv.get<string>(keys.userByEmail("ada@example.com")))
    .value!;
  // Twenty registrations spread across the moment the first one expires.
  const results = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, 600 + i * 50));
      // Names are letters only: New a, New b, …
      const first_name = `New ${String.fromCharCode(97 + i)}`;
      return app.browser().register({ first_name });
    }),
  );
  assert.ok(results.every((r) => r.status === 303));
  const newId = (await app.kv.get<string>(keys.userByEmail("ada@example.com")))
    .value!;
  assert.ok(newId, "the address is registered again");
  assert.notEqual(newId, oldId, "a later registration replaced the stale one");
  const user = (await app.kv.get<User>(keys.user(newId))).value!;
  assert.match(user.firstName, /^New [a-t]$/);
  assert.equal((await app.kv.get(keys.user(oldId))).value, null);
  const problems = await checkStore(app.kv, Date.now());
  assert.deepEqual(problems, []);
  console.log(
    `20 registrations racing an expiry → ${await countPrefix(app.kv, [
      "users",
    ])} user record, ${await countPrefix(app.kv, [
      "users_by_email",
    ])} index entry, ${problems.length} orphans (winner ${user.firstName})`,
  );
});
