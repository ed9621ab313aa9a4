// The lifecycle model at length: thousands of longer sequences.
import {
  EMAIL_CHANGES,
  runLifecycleModel,
  TIGHT_LIMITS,
  TOSSING,
} from "./lifecycle.ts";

Deno.test("lifecycle soak: thousands of account lifecycles keep the invariants", async () => {
  await runLifecycleModel({ numRuns: 3000, maxCommands: 25 });
});

Deno.test("lifecycle soak: floods under tight per-mailbox limits keep to them", async () => {
  await runLifecycleModel({ numRuns: 1000, maxCommands: 25, ...TIGHT_LIMITS });
});

Deno.test("lifecycle soak: tossed cookies at length", async () => {
  await runLifecycleModel({ numRuns: 1000, maxCommands: 25, ...TOSSING });
});

Deno.test("lifecycle soak: moving addresses at length", async () => {
  await runLifecycleModel({ numRuns: 1000, maxCommands: 25, ...EMAIL_CHANGES });
});
