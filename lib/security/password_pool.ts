// The hashing threads: a small pool of workers, each hashing one job at a
// time on its own thread (the native addon's synchronous call, or hash-wasm)
// at a lower CPU priority than the page thread (thread_priority.ts), so a
// hash never stalls other requests and sign-ups use only the CPU that pages
// leave. createWorkerPool is long by design: one closure over the workers,
// the queue and shutdown, which must change together.
import {
  type Argon2Backend,
  type BackendName,
  type PasswordJob,
  runPasswordJob,
  wasmArgon2,
} from "./argon2.ts";
import type { Logger } from "../app/log.ts";

export type WorkerRequest = PasswordJob & { id: number };
/** The first message each worker gets: which backend to load. */
export interface WorkerSetup {
  backend: BackendName;
}
export type WorkerMessage = WorkerRequest | { setUp: WorkerSetup };
/** How a worker set itself up: its backend, and null or why its priority stayed. */
export interface WorkerReport {
  backend: BackendName;
  /** Why the native backend did not load in the worker, when it did not. */
  fellBack?: string;
  priority: string | null;
}
/**
 * `ready` comes once, after the worker's imports loaded, then `setUp`; then
 * one reply per id.
 */
export type WorkerResponse =
  | { ready: true }
  | { setUp: WorkerReport }
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
  /** What the workers hash with; "wasm" when not given. */
  backend?: BackendName;
  /** Hashes on the calling thread when no worker can run; hash-wasm by default. */
  mainThread?: Argon2Backend;
  /** Told how the first worker set itself up. */
  onSetUp?(report: WorkerReport): void;
}

export interface WorkerPool {
  /**
   * Starts every worker now. `new Worker` holds the calling thread for about
   * 53-66 ms here (measured): at start-up, not in the middle of a sign-up
   * wave, where every request would wait that long.
   */
  start(): void;
  run(job: PasswordJob): Promise<string | boolean>;
  close(): void;
}

export function createWorkerPool(opts: WorkerPoolOptions): WorkerPool {
  const onThisThread = (job: PasswordJob) =>
    runPasswordJob(opts.mainThread ?? wasmArgon2, job);
  let reported = false;
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
    // First in the worker's queue, so every job finds its backend loaded.
    worker.postMessage(
      { setUp: { backend: opts.backend ?? "wasm" } } satisfies WorkerMessage,
    );
    const slot: Slot = { worker, ready: false, pending: new Map() };
    worker.onmessage = ({ data }: MessageEvent<WorkerResponse>) => {
      if ("ready" in data) {
        slot.ready = true;
        return;
      }
      if ("setUp" in data) {
        if (!reported) opts.onSetUp?.(data.setUp);
        reported = true;
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
    start() {
      while (!workersUnavailable && !closed && slots.length < max) {
        if (!spawn()) break;
      }
    },
    run(job) {
      if (closed) return Promise.reject(new Error("password hasher is closed"));
      const slot = workersUnavailable ? null : pickSlot();
      if (!slot) return onThisThread(job);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        slot.pending.set(id, { job, resolve, reject });
        slot.worker.postMessage({ id, ...job } satisfies WorkerMessage);
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
