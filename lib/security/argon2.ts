// Argon2id itself: the parameters, the PHC string we store, and the two
// implementations that compute it — the native @node-rs/argon2 addon (Rust,
// hashes on its own threads) and hash-wasm (WebAssembly, the fallback where
// a Node-API addon cannot load). Both write and read the same strings.
import { argon2id } from "hash-wasm";
import { timingSafeEqual } from "node:crypto";
import type * as NativeArgon2 from "@node-rs/argon2";

export interface Argon2Params {
  /** KiB of memory per hash. */
  memoryKib: number;
  iterations: number;
}

/** OWASP's Argon2id configurations (Password Storage Cheat Sheet), all p=1. */
export const OWASP_MINIMUMS: readonly Argon2Params[] = [
  { memoryKib: 47_104, iterations: 1 },
  { memoryKib: 19_456, iterations: 2 },
  { memoryKib: 12_288, iterations: 3 },
  { memoryKib: 9_216, iterations: 4 },
  { memoryKib: 7_168, iterations: 5 },
];
/** The default: OWASP's second line, the one most libraries ship. */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = OWASP_MINIMUMS[1];

/** True when `p` costs at least one of OWASP's configurations. */
export function meetsOwaspMinimum(p: Argon2Params): boolean {
  return OWASP_MINIMUMS.some((o) =>
    p.memoryKib >= o.memoryKib && p.iterations >= o.iterations
  );
}

export const HASH_BYTES = 32;
export const SALT_BYTES = 16;
// What a stored string may make us spend on one verify; a corrupt or planted
// m=4000000 must not allocate gigabytes. Config refuses values above these.
export const MAX_MEMORY_KIB = 262_144;
export const MAX_ITERATIONS = 16;
const MAX_PARALLELISM = 8;
// Only what hashing writes: argon2id, version 19, m,t,p in that order,
// unpadded standard base64 salt (8-64 bytes) and hash (4-64 bytes).
const ENCODED =
  /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,86})\$([A-Za-z0-9+/]{6,86})$/;

export interface Argon2Encoded {
  memorySize: number;
  iterations: number;
  parallelism: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

export function parseEncoded(encoded: unknown): Argon2Encoded | null {
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

export type BackendName = "native" | "wasm";

/** One way to compute Argon2id; `verify` gets a string parseEncoded accepted. */
export interface Argon2Backend {
  name: BackendName;
  hash(password: string, params: Argon2Params): Promise<string>;
  /** The raw tag for `stored`'s salt and parameters. */
  tag(password: string, stored: Argon2Encoded): Promise<Uint8Array>;
}

export const wasmArgon2: Argon2Backend = {
  name: "wasm",
  hash: (password, params) =>
    argon2id({
      password: normalise(password),
      salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
      memorySize: params.memoryKib,
      iterations: params.iterations,
      parallelism: 1,
      hashLength: HASH_BYTES,
      outputType: "encoded",
    }),
  tag: (password, stored) =>
    argon2id({
      password: normalise(password),
      salt: stored.salt,
      memorySize: stored.memorySize,
      iterations: stored.iterations,
      parallelism: stored.parallelism,
      hashLength: stored.hash.length,
      outputType: "binary",
    }),
};

/**
 * The native addon, or why it cannot load here (another platform, no
 * Node-API in this runtime, no --allow-ffi).
 */
export async function loadNativeArgon2(
  opts: { onThisThread?: boolean } = {},
): Promise<
  { ok: true; backend: Argon2Backend } | { ok: false; reason: string }
> {
  // Loading an addon needs --allow-ffi; without it the addon's own error
  // blames npm, so say what is really missing.
  const ffi = await Deno.permissions.query({ name: "ffi" });
  if (ffi.state !== "granted") {
    return { ok: false, reason: "no --allow-ffi (Node-API addons need it)" };
  }
  let lib: typeof NativeArgon2;
  try {
    lib = await import("@node-rs/argon2");
  } catch (error) {
    return { ok: false, reason: firstLoadError(error) };
  }
  // `Algorithm` is a const enum in the typings: spelled out here.
  const ARGON2ID = 2 as NativeArgon2.Algorithm;
  const newHash = (params: Argon2Params): NativeArgon2.Options => ({
    algorithm: ARGON2ID,
    memoryCost: params.memoryKib,
    timeCost: params.iterations,
    parallelism: 1,
    outputLen: HASH_BYTES,
    salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
  });
  const sameAs = (stored: Argon2Encoded): NativeArgon2.Options => ({
    algorithm: ARGON2ID,
    memoryCost: stored.memorySize,
    timeCost: stored.iterations,
    parallelism: stored.parallelism,
    outputLen: stored.hash.length,
    salt: stored.salt,
  });
  // The addon's async calls hash on its own threads; a hashing worker wants
  // the work on its own thread instead (it runs at a lower priority).
  const backend: Argon2Backend = opts.onThisThread
    ? {
      name: "native",
      hash: (password, params) =>
        Promise.resolve(lib.hashSync(normalise(password), newHash(params))),
      tag: (password, stored) =>
        Promise.resolve(
          new Uint8Array(lib.hashRawSync(normalise(password), sameAs(stored))),
        ),
    }
    : {
      name: "native",
      hash: (password, params) =>
        lib.hash(normalise(password), newHash(params)),
      tag: async (password, stored) =>
        new Uint8Array(await lib.hashRaw(normalise(password), sameAs(stored))),
    };
  return { ok: true, backend };
}

/**
 * napi-rs's loader throws "Cannot find native binding. npm has a bug…" with
 * each attempt chained as `cause`, the native one innermost: that first
 * attempt is what an operator can act on (a missing or foreign .node file).
 */
function firstLoadError(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) {
    inner = inner.cause;
  }
  const message = inner instanceof Error ? inner.message : String(inner);
  return message.split("\n")[0];
}

export type PasswordJob =
  | { op: "hash"; password: string; params: Argon2Params }
  | { op: "verify"; password: string; encoded: string };

/** Runs a job with `backend` on the calling thread (or the addon's threads). */
export async function runPasswordJob(
  backend: Argon2Backend,
  job: PasswordJob,
): Promise<string | boolean> {
  if (job.op === "hash") {
    if (!job.password) throw new Error("refusing to hash an empty password");
    return await backend.hash(job.password, job.params);
  }
  const stored = parseEncoded(job.encoded);
  if (!stored || typeof job.password !== "string" || !job.password) {
    return false;
  }
  const actual = await backend.tag(job.password, stored);
  // Constant time, so response timing says nothing about how much matched.
  return timingSafeEqual(actual, stored.hash);
}
