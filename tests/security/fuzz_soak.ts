// Thousands of random inputs per endpoint; minutes, so `deno task soak`.
import { fuzzEndpoints } from "./fuzz.ts";

Deno.test("soak fuzz: every form endpoint survives random input (5000 cases each)", async () => {
  await fuzzEndpoints({ runs: 5000, maxExpensive: 40 });
});
