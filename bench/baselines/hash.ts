// Baseline for POST /register: Argon2id hashes per second with the app's
// parameters, one hash-wasm loop per core, nothing else. args: seconds
const seconds = Number(Deno.args[0] ?? 5);
const cores = navigator.hardwareConcurrency;
const workers = Array.from(
  { length: cores },
  () =>
    new Worker(new URL("hash_worker.ts", import.meta.url), { type: "module" }),
);
const counts = await Promise.all(
  workers.map((w) =>
    new Promise<number>((resolve) => {
      w.onmessage = (e: MessageEvent<number>) => resolve(e.data);
      w.postMessage(seconds * 1000);
    })
  ),
);
for (const w of workers) w.terminate();
const hashes = counts.reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ cores, hashes, perSecond: hashes / seconds }));
