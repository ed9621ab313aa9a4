// Baseline for POST /activate: lib/accounts/users.ts activateUser (the same KV reads
// and atomic commits the app makes) for fresh pending users, with as many in
// flight as wrk keeps connections. args: kv-path ids-file concurrency
import { activateUser } from "../../lib/accounts/user_writes.ts";

const [kvPath, idsFile, concurrency] = Deno.args;
const ids = (await Deno.readTextFile(idsFile)).trim().split("\n");
const kv = await Deno.openKv(kvPath);
let next = 0;
let failed = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const res = await activateUser(kv, id, {
        now: Date.now(),
        sessionTtlMs: 14 * 86_400_000,
        tokenVersion: 0,
        // As the app does for the browser that registered (no registrant
        // recorded: the user's id).
        proof: { registrant: id },
      });
      if (!res.ok) failed++;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
kv.close();
console.log(
  JSON.stringify({ ops: ids.length, failed, perSecond: ids.length / seconds }),
);
