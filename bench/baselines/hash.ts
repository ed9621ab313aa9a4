// Baseline for POST /register: Argon2id hashes per second with the app's
// library and parameters, as many hashes at once as there are cores, nothing
// else. args: seconds
import {
  DEFAULT_ARGON2_PARAMS,
  loadNativeArgon2,
} from "../../lib/security/argon2.ts";

const seconds = Number(Deno.args[0] ?? 5);
const cores = navigator.hardwareConcurrency;
const loaded = await loadNativeArgon2();
if (!loaded.ok) throw new Error(`native Argon2 did not load: ${loaded.reason}`);
const { backend } = loaded;
const password = "Tr0ub4dor-zebra-quilt-42";
// One warm-up hash: the app has had its own when it is timed.
await backend.hash(password, DEFAULT_ARGON2_PARAMS);
const end = performance.now() + seconds * 1000;
let hashes = 0;
async function loop() {
  while (performance.now() < end) {
    await backend.hash(password, DEFAULT_ARGON2_PARAMS);
    hashes++;
  }
}
await Promise.all(Array.from({ length: cores }, loop));
console.log(JSON.stringify({ cores, hashes, perSecond: hashes / seconds }));
