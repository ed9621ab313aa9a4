// The full-size races of issue 6; seconds of Argon2id, so `deno task soak`.
import { raceRegistrations } from "./race_scenarios.ts";

Deno.test("soak race: 200 concurrent registrations of one email → one user, one mail", async () => {
  await raceRegistrations(200);
});
