// The lifecycle model at length: thousands of longer sequences.
import { runLifecycleModel } from "./lifecycle.ts";

Deno.test("lifecycle soak: thousands of account lifecycles keep the invariants", async () => {
  await runLifecycleModel({ numRuns: 3000, maxCommands: 25 });
});
