// Entry point of the hashing workers that lib/security/password_pool.ts
// starts: the native addon on this thread when the pool asks for it (else
// hash-wasm), at a lower CPU priority than the page thread. Answers every
// request by its id; a failure goes back as a message, never a crash.
import {
  type Argon2Backend,
  loadNativeArgon2,
  runPasswordJob,
  wasmArgon2,
} from "./argon2.ts";
import type {
  WorkerMessage,
  WorkerResponse,
  WorkerSetup,
} from "./password_pool.ts";
import { lowerThisThread } from "./thread_priority.ts";

// hash-wasm instantiates a fresh module with ~19 MiB of memory for every
// hash, and a worker that only hashes allocates too little to trigger a GC
// of its own, so unreleased Argon2 memories piled up to hundreds of MiB per
// worker. A minor GC after each job was not enough: the instances (and their
// BLAKE2b helpers) often outlive a scavenge during the hash and are promoted,
// so three or four dead 19 MiB memories still sat in the old generation
// (+89 MiB per worker over 10 hashes). A full GC after each job keeps the
// growth at one memory (+33 MiB) and, on this tiny heap, costs less than the
// page faults it saves (133-143 ms per hash against 161-168 ms with minor).
// `gc` exists when the process runs with --v8-flags=--expose-gc (nothing
// needs it: Deno Deploy cannot pass it, and the native backend has no such
// pile-up); without it, allocating a few MiB of short-lived objects makes
// V8 scavenge, which frees at least the youngest.
const gc = (globalThis as { gc?: (o: { type: "major" }) => void }).gc;
// Written, never read: keeps V8 from optimising the allocations away.
// deno-lint-ignore no-unused-vars
let churn: unknown;
function releaseArgon2Memory(): void {
  if (gc) return gc({ type: "major" });
  const objects = new Array(1024);
  for (let i = 0; i < 100_000; i++) objects[i & 1023] = { i };
  churn = objects;
}

let backend: Argon2Backend = wasmArgon2;

async function setUp({ backend: wanted }: WorkerSetup): Promise<void> {
  let fellBack: string | undefined;
  if (wanted === "native") {
    const loaded = await loadNativeArgon2({ onThisThread: true });
    if (loaded.ok) backend = loaded.backend;
    else fellBack = loaded.reason;
  }
  self.postMessage(
    {
      setUp: { backend: backend.name, fellBack, priority: lowerThisThread() },
    } satisfies WorkerResponse,
  );
}

async function answer(data: WorkerMessage): Promise<void> {
  if ("setUp" in data) return await setUp(data.setUp);
  let response: WorkerResponse;
  try {
    response = {
      id: data.id,
      ok: true,
      value: await runPasswordJob(backend, data),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    response = { id: data.id, ok: false, error: message };
  }
  self.postMessage(response);
  if (backend === wasmArgon2) releaseArgon2Memory();
}

// One job at a time: interleaved, every queued job would hold its own Argon2
// memory at once, and a CPU-bound hash gains nothing from interleaving.
let queue = Promise.resolve();
self.onmessage = ({ data }: MessageEvent<WorkerMessage>) => {
  queue = queue.then(() => answer(data));
};

// Tells the pool this module and hash-wasm loaded; an error before this means
// workers cannot run here at all, not that one job failed.
self.postMessage({ ready: true } satisfies WorkerResponse);
