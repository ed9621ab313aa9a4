// The hash-wasm fallback's threads: a small pool of workers, so a ~100 ms
// WebAssembly hash never stalls every other request. The native backend
// needs none (the addon hashes on threads of its own).
// createWorkerPool is long by design: one closure over the workers, the
// queue and shutdown, which must change together.
import { type PasswordJob, runPasswordJob, wasmArgon2 } from "./argon2.ts";
import type { Logger } from "../app/log.ts";

export type WorkerRequest = PasswordJob & { id: number };
/** `ready` comes once, after the worker's imports loaded; then one reply per id. */
export type WorkerResponse =
  | { ready: true }
  | { id: number; ok: true; value: string | boolean }
  | { id: number; ok: false; error: string };

interface Pending {
  job: PasswordJob;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}
interface Slot {
  worker: Worker;
  ready: boolean;
  pending: Map<number, Pending>;
}

export interface WorkerPoolOptions {
  /** Worker threads; 0 hashes on the main thread. */
  workers: number;
  /** Told once when workers cannot start; defaults to the console. */
  log?: Pick<Logger, "warn">;
  /** Replaces lib/security/password_worker.ts; for tests that need a failing worker. */
  workerUrl?: URL | string;
}

export interface WorkerPool {
  run(job: PasswordJob): Promise<string | boolean>;
  close(): void;
}

const onThisThread = (job: PasswordJob) => runPasswordJob(wasmArgon2, job);

export function createWorkerPool(opts: WorkerPoolOptions): WorkerPool {
  const max = Math.max(0, Math.floor(opts.workers));
  const workerUrl = opts.workerUrl ??
    new URL("./password_worker.ts", import.meta.url);
  let slots: Slot[] = [];
  let nextId = 1;
  let workersUnavailable = max === 0;
  let closed = false;

  function retire(slot: Slot): Pending[] {
    slot.worker.terminate();
    slots = slots.filter((s) => s !== slot);
    const orphans = [...slot.pending.values()];
    slot.pending.clear();
    return orphans;
  }

  function fallBack(reason: string): void {
    if (workersUnavailable) return;
    workersUnavailable = true;
    (opts.log ?? console).warn(
      "password workers unavailable; hashing on the main thread",
      { reason },
    );
  }

  function spawn(): Slot | null {
    let worker: Worker;
    try {
      worker = new Worker(workerUrl, { type: "module" });
    } catch (error) {
      fallBack(error instanceof Error ? error.message : String(error));
      return null;
    }
    const slot: Slot = { worker, ready: false, pending: new Map() };
    worker.onmessage = ({ data }: MessageEvent<WorkerResponse>) => {
      if ("ready" in data) {
        slot.ready = true;
        return;
      }
      const p = slot.pending.get(data.id);
      if (!p) return;
      slot.pending.delete(data.id);
      if (data.ok) p.resolve(data.value);
      else p.reject(new Error(`password worker: ${data.error}`));
    };
    worker.onerror = (event: ErrorEvent) => {
      // Unhandled, a worker's error would take the whole server down with it.
      event.preventDefault();
      const startedOk = slot.ready;
      const orphans = retire(slot);
      if (startedOk) {
        const error = new Error(`password worker crashed: ${event.message}`);
        for (const p of orphans) p.reject(error);
        return;
      }
      // It never loaded (no workers here, no read permission for its module):
      // the jobs are pure, so they simply run again on this thread.
      fallBack(event.message);
      for (const p of orphans) onThisThread(p.job).then(p.resolve, p.reject);
    };
    worker.onmessageerror = () => {
      const error = new Error("password worker sent an unreadable message");
      for (const p of retire(slot)) p.reject(error);
    };
    slots.push(slot);
    return slot;
  }

  /** The least busy worker; a new one only when all are busy and there is room. */
  function pickSlot(): Slot | null {
    let best: Slot | null = null;
    for (const s of slots) {
      if (!best || s.pending.size < best.pending.size) best = s;
    }
    if ((!best || best.pending.size > 0) && slots.length < max) {
      return spawn() ?? best;
    }
    return best;
  }

  return {
    run(job) {
      if (closed) return Promise.reject(new Error("password hasher is closed"));
      const slot = workersUnavailable ? null : pickSlot();
      if (!slot) return onThisThread(job);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        slot.pending.set(id, { job, resolve, reject });
        slot.worker.postMessage({ id, ...job } satisfies WorkerRequest);
      });
    },
    close() {
      closed = true;
      const error = new Error("password hasher is closed");
      for (const slot of [...slots]) {
        for (const p of retire(slot)) p.reject(error);
      }
    },
  };
}
