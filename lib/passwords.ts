// Argon2id password hashing with OWASP's parameters, run on a small pool of
// workers so a ~100 ms hash never stalls every other request.
import { argon2id } from "hash-wasm";
import { timingSafeEqual } from "node:crypto";
import type { Logger } from "./log.ts";

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False, never a throw, for a wrong password or a malformed `encoded`. */
  verify(password: string, encoded: string): Promise<boolean>;
  /** Verifies against a fixed dummy hash so unknown-user logins take as long as wrong-password ones. */
  verifyDummy(password: string): Promise<void>;
  /** True when `encoded` is weaker than the current parameters (or unreadable). */
  needsRehash(encoded: string): boolean;
  close(): void;
}

/** OWASP's Argon2id minimum: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_PARAMS = {
  memorySize: 19_456,
  iterations: 2,
  parallelism: 1,
  hashLength: 32,
} as const;
const SALT_BYTES = 16;

// What a stored string may make us spend on one verify; a corrupt or planted
// m=4000000 must not allocate gigabytes. Raise these with ARGON2_PARAMS.
const MAX_MEMORY_KIB = 262_144;
const MAX_ITERATIONS = 16;
const MAX_PARALLELISM = 8;
// Only what hashPassword writes: argon2id, version 19, m,t,p in that order,
// unpadded standard base64 salt (8-64 bytes) and hash (4-64 bytes).
const ENCODED =
  /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,86})\$([A-Za-z0-9+/]{6,86})$/;

interface Argon2Encoded {
  memorySize: number;
  iterations: number;
  parallelism: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parseEncoded(encoded: unknown): Argon2Encoded | null {
  if (typeof encoded !== "string") return null;
  const match = ENCODED.exec(encoded);
  if (!match) return null;
  const [memorySize, iterations, parallelism] = match.slice(1, 4).map(Number);
  if (
    parallelism < 1 || parallelism > MAX_PARALLELISM ||
    iterations < 1 || iterations > MAX_ITERATIONS ||
    memorySize < 8 * parallelism || memorySize > MAX_MEMORY_KIB
  ) return null;
  try {
    const salt = Uint8Array.fromBase64(match[4]);
    const hash = Uint8Array.fromBase64(match[5]);
    return { memorySize, iterations, parallelism, salt, hash };
  } catch {
    return null; // a length no base64 encoder produces
  }
}

// NIST SP 800-63B: normalise so the same password typed on another keyboard
// or OS (composed vs decomposed accents) still matches.
const normalise = (password: string) => password.normalize("NFKC");

/** Hashes on the calling thread; the pool's workers run this too. */
export async function hashPassword(password: string): Promise<string> {
  if (!password) throw new Error("refusing to hash an empty password");
  return await argon2id({
    ...ARGON2_PARAMS,
    password: normalise(password),
    salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
    outputType: "encoded",
  });
}

/** Verifies on the calling thread; the pool's workers run this too. */
export async function verifyPassword(
  password: string,
  encoded: string,
): Promise<boolean> {
  const stored = parseEncoded(encoded);
  if (!stored || typeof password !== "string" || !password) return false;
  const actual = await argon2id({
    password: normalise(password),
    salt: stored.salt,
    memorySize: stored.memorySize,
    iterations: stored.iterations,
    parallelism: stored.parallelism,
    hashLength: stored.hash.length,
    outputType: "binary",
  });
  // Constant time, so response timing says nothing about how much matched.
  return timingSafeEqual(actual, stored.hash);
}

export type PasswordJob =
  | { op: "hash"; password: string }
  | { op: "verify"; password: string; encoded: string };
export type WorkerRequest = PasswordJob & { id: number };
/** `ready` comes once, after the worker's imports loaded; then one reply per id. */
export type WorkerResponse =
  | { ready: true }
  | { id: number; ok: true; value: string | boolean }
  | { id: number; ok: false; error: string };

export function runPasswordJob(job: PasswordJob): Promise<string | boolean> {
  return job.op === "hash"
    ? hashPassword(job.password)
    : verifyPassword(job.password, job.encoded);
}

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

export interface PasswordHasherOptions {
  /** Worker threads; 0 hashes on the main thread. */
  workers: number;
  /** Told once when workers cannot start; defaults to the console. */
  log?: Pick<Logger, "warn">;
  /** Replaces lib/password_worker.ts; for tests that need a failing worker. */
  workerUrl?: URL | string;
}

export function createPasswordHasher(
  opts: PasswordHasherOptions,
): PasswordHasher {
  const max = Math.max(0, Math.floor(opts.workers));
  const workerUrl = opts.workerUrl ??
    new URL("./password_worker.ts", import.meta.url);
  let slots: Slot[] = [];
  let nextId = 1;
  let workersUnavailable = max === 0;
  let closed = false;
  let dummy: Promise<string> | null = null;

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
      for (const p of orphans) runPasswordJob(p.job).then(p.resolve, p.reject);
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

  function run(job: PasswordJob): Promise<string | boolean> {
    if (closed) return Promise.reject(new Error("password hasher is closed"));
    const slot = workersUnavailable ? null : pickSlot();
    if (!slot) return runPasswordJob(job);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { job, resolve, reject });
      slot.worker.postMessage({ id, ...job } satisfies WorkerRequest);
    });
  }

  const hash = (password: string) =>
    run({ op: "hash", password }) as Promise<string>;
  const verify = (password: string, encoded: string) =>
    // Checked here too, so a malformed string costs no round trip.
    parseEncoded(encoded) && typeof password === "string" && password
      ? run({ op: "verify", password, encoded }) as Promise<boolean>
      : Promise.resolve(false);

  return {
    hash,
    verify,
    async verifyDummy(password) {
      // Made with the current parameters, so it costs what a real verify does.
      dummy ??= hash(crypto.randomUUID());
      let encoded: string;
      try {
        encoded = await dummy;
      } catch (error) {
        dummy = null;
        throw error;
      }
      await verify(password || "-", encoded);
    },
    needsRehash(encoded) {
      const stored = parseEncoded(encoded);
      return !stored ||
        stored.memorySize < ARGON2_PARAMS.memorySize ||
        stored.iterations < ARGON2_PARAMS.iterations ||
        stored.hash.length < ARGON2_PARAMS.hashLength ||
        stored.salt.length < SALT_BYTES;
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
