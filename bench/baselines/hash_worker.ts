// One core's share of the hash baseline: the app's own hashPassword (same
// parameters, same NFKC step) in a loop, freeing each hash's Argon2 memory
// the way lib/password_worker.ts does, so only the pool's overhead differs.
import { hashPassword } from "../../lib/passwords.ts";

const gc = (globalThis as { gc?: (o: { type: "major" }) => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc, as the app is");

self.onmessage = async ({ data: ms }: MessageEvent<number>) => {
  // One warm-up hash: the app's workers have had theirs when it is timed.
  await hashPassword("Tr0ub4dor-zebra-quilt-42");
  gc({ type: "major" });
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    await hashPassword("Tr0ub4dor-zebra-quilt-42");
    gc({ type: "major" });
    n++;
  }
  self.postMessage(n);
};
