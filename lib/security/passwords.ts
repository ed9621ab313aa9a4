// lib/security/ — secrets and limits: HMAC signing, Argon2id hashing (the
// pool, its worker, the password rules) and KV-backed rate limits. It imports
// only kv/ and app/'s foundation.
//
// Password hashing for the app: Argon2id with the configured parameters, on
// the native addon when it loads (hash-wasm workers when not), through a
// bounded queue so a wave of sign-ups can neither take every core from the
// pages nor pile up work without end.
import {
  type Argon2Backend,
  type Argon2Params,
  type BackendName,
  DEFAULT_ARGON2_PARAMS,
  HASH_BYTES,
  loadNativeArgon2,
  parseEncoded,
  type PasswordJob,
  runPasswordJob,
  SALT_BYTES,
  wasmArgon2,
} from "./argon2.ts";
import type { Logger } from "../app/log.ts";
import { observeHashQueue } from "../app/metrics.ts";
import { StartupError } from "../kv/open.ts";
import { createWorkerPool } from "./password_pool.ts";

export { DEFAULT_ARGON2_PARAMS, meetsOwaspMinimum } from "./argon2.ts";

/** Verifies with hash-wasm on the calling thread, outside any hasher's queue. */
export async function verifyPassword(
  password: string,
  encoded: string,
): Promise<boolean> {
  return await runPasswordJob(wasmArgon2, {
    op: "verify",
    password,
    encoded,
  }) as boolean;
}
export type { Argon2Params, BackendName } from "./argon2.ts";

export interface PasswordHasher {
  /** Which implementation hashes: "native" (@node-rs/argon2) or "wasm". */
  readonly backend: BackendName;
  /** Throws PasswordsBusyError when the queue is full. */
  hash(password: string): Promise<string>;
  /** False, never a throw, for a wrong password or a malformed `encoded`. */
  verify(password: string, encoded: string): Promise<boolean>;
  /** Verifies against a fixed dummy hash so unknown-user logins take as long as wrong-password ones. */
  verifyDummy(password: string): Promise<void>;
  /** True when `encoded` is weaker than the configured parameters (or unreadable). */
  needsRehash(encoded: string): boolean;
  /** Jobs waiting for a free hashing slot (not those running). */
  queueLength(): number;
  close(): void;
}

/** Every slot busy and the queue full: the caller answers 503, changes nothing. */
export class PasswordsBusyError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("password hashing queue is full");
    this.name = "PasswordsBusyError";
  }
}

export interface PasswordHasherOptions {
  /**
   * Hashes run at once, each in a worker thread (0: on the calling thread).
   * null: one per core (at most 8), one fewer until the workers report that
   * they run at a lower priority than the pages.
   */
  workers: number | null;
  /** Jobs that may wait for a slot; more are refused. Default 64. */
  queueLimit?: number;
  /** "auto" tries the native addon and falls back to hash-wasm. */
  backend?: "auto" | BackendName;
  params?: Argon2Params;
  /** Told which backend runs (and why not native); defaults to the console. */
  log?: Pick<Logger, "info" | "warn">;
  /** Replaces lib/security/password_worker.ts; for tests that need a failing worker. */
  workerUrl?: URL | string;
}

/** At most `slots` jobs run at once and `queueLimit` wait; more are refused. */
function createLimiter(slots: number, queueLimit: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  // A moving average of one job's time, to tell a refused client when to retry.
  let averageMs = 50;
  return {
    waiting: () => waiting.length,
    /** More slots than before: jobs waiting start at once. */
    setSlots(n: number) {
      slots = n;
      while (running < slots && waiting.length) {
        running++;
        waiting.shift()!();
      }
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running >= slots) {
        if (waiting.length >= queueLimit) {
          const ahead = (running + waiting.length) * averageMs / slots;
          throw new PasswordsBusyError(Math.max(1, Math.ceil(ahead / 1000)));
        }
        // The slot is handed over by the job that ends, so `running` stays.
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else running++;
      const started = performance.now();
      try {
        return await work();
      } finally {
        averageMs = 0.8 * averageMs + 0.2 * (performance.now() - started);
        const next = waiting.shift();
        if (next) next();
        else running--;
      }
    },
  };
}

export async function createPasswordHasher(
  opts: PasswordHasherOptions,
): Promise<PasswordHasher> {
  const params = opts.params ?? DEFAULT_ARGON2_PARAMS;
  const log = opts.log ?? { info() {}, warn: console.warn };
  const want = opts.backend ?? "auto";
  let native: Argon2Backend | null = null;
  if (want !== "wasm") {
    const loaded = await loadNativeArgon2();
    if (loaded.ok) native = loaded.backend;
    else if (want === "native") {
      throw new StartupError(
        `PASSWORD_BACKEND=native: the @node-rs/argon2 addon cannot load (${loaded.reason}); ` +
          "PASSWORD_BACKEND=auto falls back to hash-wasm",
      );
    } else {
      log.warn("native Argon2 unavailable; using hash-wasm", {
        reason: loaded.reason,
      });
    }
  }
  // Every hash runs in a worker thread of the pool (the native addon when it
  // loaded, else hash-wasm), at a lower CPU priority than the pages; with
  // PASSWORD_WORKERS=0 on the calling thread (the addon's own threads).
  const auto = opts.workers === null;
  const workers = auto
    ? Math.max(1, Math.min(navigator.hardwareConcurrency ?? 1, 8))
    : Math.max(0, Math.floor(opts.workers!));
  const limiter = createLimiter(
    Math.max(1, auto ? workers - 1 : workers),
    opts.queueLimit ?? 64,
  );
  const pool = createWorkerPool({
    ...opts,
    workers,
    log: opts.log,
    backend: native ? "native" : "wasm",
    mainThread: native ?? wasmArgon2,
    onSetUp: ({ backend, fellBack, priority }) => {
      if (fellBack) {
        log.warn("native Argon2 unavailable in workers; using hash-wasm", {
          reason: fellBack,
        });
      }
      log.info("password workers", {
        backend,
        priority: priority ? `normal (${priority})` : "lowered",
      });
      // Below the pages, hashing may take every core they leave idle.
      if (auto && !priority) limiter.setSlots(workers);
    },
  });
  pool.start();
  const run = (job: PasswordJob) => limiter.run(() => pool.run(job));
  let closed = false;
  let dummy: Promise<string> | null = null;

  const hash = (password: string) => {
    if (closed) return Promise.reject(new Error("password hasher is closed"));
    if (!password) {
      return Promise.reject(new Error("refusing to hash an empty password"));
    }
    return run({ op: "hash", password, params }) as Promise<string>;
  };
  const verify = (password: string, encoded: string) => {
    if (closed) return Promise.reject(new Error("password hasher is closed"));
    // Checked here too, so a malformed string costs no slot.
    return parseEncoded(encoded) && typeof password === "string" && password
      ? run({ op: "verify", password, encoded }) as Promise<boolean>
      : Promise.resolve(false);
  };
  const backend: BackendName = native ? "native" : "wasm";
  log.info("password hashing", {
    backend,
    workers: Math.max(1, workers),
    memoryKib: params.memoryKib,
    iterations: params.iterations,
  });

  const unobserve = observeHashQueue(limiter.waiting);
  return {
    backend,
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
        stored.memorySize < params.memoryKib ||
        stored.iterations < params.iterations ||
        stored.hash.length < HASH_BYTES ||
        stored.salt.length < SALT_BYTES;
    },
    queueLength: limiter.waiting,
    close() {
      closed = true;
      unobserve();
      pool.close();
    },
  };
}
