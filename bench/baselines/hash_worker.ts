// One core's share of the hash baseline: hash-wasm's argon2id in a loop.
import { argon2id } from "hash-wasm";
import { ARGON2_PARAMS } from "../../lib/passwords.ts";

self.onmessage = async ({ data: ms }: MessageEvent<number>) => {
  // One warm-up hash, as the app's workers have had by the time it is timed.
  const hashOnce = () =>
    argon2id({
      ...ARGON2_PARAMS,
      password: "Tr0ub4dor-zebra-quilt-42",
      salt: crypto.getRandomValues(new Uint8Array(16)),
      outputType: "encoded",
    });
  await hashOnce();
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    await hashOnce();
    n++;
  }
  self.postMessage(n);
};
