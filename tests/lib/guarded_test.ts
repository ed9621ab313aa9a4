// retryGuarded: a write that loses its race reads again; one that loses
// every race gets the caller's answer for that. Against a real KV: 20
// writers add one to a counter each, and every add lands.
import assert from "node:assert/strict";
import { retryGuarded } from "../../lib/kv/guarded.ts";

Deno.test("guarded: 20 racing read-modify-writes all land, none lost", async () => {
  using kv = await Deno.openKv(":memory:");
  const key = ["counter"];
  let lostRaces = 0;
  const add = () =>
    retryGuarded(async () => {
      const entry = await kv.get<number>(key);
      const res = await kv.atomic().check(entry)
        .set(key, (entry.value ?? 0) + 1).commit();
      if (!res.ok) lostRaces++;
      return res.ok ? "added" : undefined;
    }, { tries: 100, exhausted: () => "gave up", backoff: true });
  const answers = await Promise.all(Array.from({ length: 20 }, add));
  assert.deepEqual(new Set(answers), new Set(["added"]));
  assert.equal((await kv.get<number>(key)).value, 20);
  assert.ok(lostRaces > 0, "the writers did race");
});

Deno.test("guarded: after `tries` lost races the answer is the caller's", async () => {
  let attempts = 0;
  const answer = await retryGuarded(() => {
    attempts++;
    return Promise.resolve(undefined);
  }, { tries: 3, exhausted: () => "conflict" });
  assert.equal(answer, "conflict");
  assert.equal(attempts, 3);
});
