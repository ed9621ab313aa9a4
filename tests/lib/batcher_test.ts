import assert from "node:assert/strict";
import { createBatcher } from "../../lib/outbox/batcher.ts";

Deno.test("batcher: keys that arrive while a batch runs go together, each with its own result", async () => {
  const batches: string[][] = [];
  const gate = Promise.withResolvers<void>();
  const run = async (keys: string[]) => {
    batches.push(keys);
    if (batches.length === 1) await gate.promise;
    return keys.map((k) => k.toUpperCase());
  };
  const add = createBatcher(run, { maxBatch: 3, maxInFlight: 1 });
  const first = add("a");
  const rest = ["b", "c", "d", "b"].map(add);
  gate.resolve();
  assert.deepEqual(await Promise.all([first, ...rest]), [
    "A",
    "B",
    "C",
    "D",
    "B",
  ]);
  assert.deepEqual(batches, [["a"], ["b", "c", "d"]]);
});

Deno.test("batcher: a failing batch rejects its own callers only", async () => {
  const add = createBatcher(
    (keys: number[]) =>
      keys.includes(2)
        ? Promise.reject(new Error("kv down"))
        : Promise.resolve(keys.map((k) => k * 10)),
    { maxBatch: 1, maxInFlight: 2 },
  );
  const results = await Promise.allSettled([add(1), add(2), add(3)]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "rejected",
    "fulfilled",
  ]);
  assert.equal((results[2] as PromiseFulfilledResult<number>).value, 30);
});
