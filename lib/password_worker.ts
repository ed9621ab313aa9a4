// Entry point of the Argon2id workers that lib/passwords.ts starts. Answers
// every request by its id; a failure goes back as a message, never a crash.
import {
  runPasswordJob,
  type WorkerRequest,
  type WorkerResponse,
} from "./passwords.ts";

self.onmessage = async ({ data }: MessageEvent<WorkerRequest>) => {
  let response: WorkerResponse;
  try {
    response = { id: data.id, ok: true, value: await runPasswordJob(data) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    response = { id: data.id, ok: false, error: message };
  }
  self.postMessage(response);
};

// Tells the pool this module and hash-wasm loaded; an error before this means
// workers cannot run here at all, not that one job failed.
self.postMessage({ ready: true } satisfies WorkerResponse);
