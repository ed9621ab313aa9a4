// The quick fuzz that runs with every `deno task test`; fuzz_soak.ts runs
// thousands of cases per endpoint.
import { fuzzEndpoints } from "./fuzz.ts";

Deno.test("fuzz: every form and JSON endpoint survives random input (1000 cases each)", async () => {
  await fuzzEndpoints({ runs: 1000, maxExpensive: 6 });
});
