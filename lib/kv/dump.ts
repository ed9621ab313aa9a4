// Every KV entry as one JSON line ({"key":[…],"value":…}) after a header
// line, and back, so an operator can move the data between databases. KV
// does not return an entry's expireIn: a restore works it out again from
// the app's timestamps (lib/kv/expiry.ts). Messages waiting in the KV queue
// are not dumped (the outbox entries they point at are, and the sweep
// delivers them).
//
// Values are plain JSON: the app stores nothing else (lib/app/records.ts)
// but counters, Deno.KvU64, written {"$u64":"<decimal>"} (as the codec of
// earlier versions did, so their dumps of this app's data still restore).
// A restore checks every record with the caller's `check` (the app passes
// recordProblem from lib/app/records.ts) before writing any.
import { type ExpiryRules, expiryTimes } from "./expiry.ts";

/** Why a record does not belong in the store, or null if it does. */
export type RecordCheck = (key: Deno.KvKey, value: unknown) => string | null;

/** Deno KV's limits for one atomic commit. */
const MAX_MUTATIONS = 1000;
const MAX_BATCH_BYTES = 800_000;

/** Names the file's format; a newer format is refused by an older restore. */
export const DUMP_FORMAT = "cloud-user-kv-dump";
export const DUMP_FORMAT_VERSION = 2;

export interface DumpHeader {
  format: typeof DUMP_FORMAT;
  formatVersion: number;
  appVersion: string;
  dumpedAt: string;
}

export async function dumpKv(
  kv: Deno.Kv,
  write: (line: string) => void | Promise<void>,
  { appVersion, now }: { appVersion: string; now: number },
): Promise<number> {
  const header: DumpHeader = {
    format: DUMP_FORMAT,
    formatVersion: DUMP_FORMAT_VERSION,
    appVersion,
    dumpedAt: new Date(now).toISOString(),
  };
  await write(JSON.stringify(header) + "\n");
  let count = 0;
  for await (const entry of kv.list({ prefix: [] }, { batchSize: 500 })) {
    const line = JSON.stringify({
      key: checkKey(entry.key),
      value: encodeValue(entry.key, entry.value),
    });
    await write(line + "\n");
    count++;
  }
  return count;
}

export type RestoreResult =
  /** `expired`: entries whose time was up, left out. */
  | { ok: true; count: number; expired: number }
  | { ok: false; reason: "not_empty" }
  | { ok: false; reason: "bad_line"; line: number; message: string };

interface Parsed {
  key: Deno.KvKey;
  value: unknown;
  /** A generous guess at the commit size (UTF-16 strings count double). */
  bytes: number;
}

/** Key parts the app uses: strings and finite numbers. */
function isKeyPart(part: unknown): part is string | number {
  return typeof part === "string" ||
    (typeof part === "number" && Number.isFinite(part));
}

function checkKey(key: Deno.KvKey): Deno.KvKey {
  if (!key.every(isKeyPart)) {
    throw new TypeError(`cannot dump key ${String(key)}: not strings/numbers`);
  }
  return key;
}

/** Throws unless JSON.stringify keeps `value` as it is. */
function assertJson(value: unknown, where: string): void {
  if (
    value === null || typeof value === "boolean" ||
    typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value))
  ) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertJson(v, `${where}[${i}]`));
    return;
  }
  if (
    typeof value === "object" &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value))
  ) {
    for (const [k, v] of Object.entries(value)) {
      // An absent optional field: JSON leaves it out, as zod reads it.
      if (v !== undefined) assertJson(v, `${where}.${k}`);
    }
    return;
  }
  throw new TypeError(`${where} is not JSON (${String(value)})`);
}

function encodeValue(key: Deno.KvKey, value: unknown): unknown {
  if (value instanceof Deno.KvU64) return { $u64: value.value.toString() };
  assertJson(value, `the value of ${JSON.stringify(key)}`);
  return value;
}

function decodeValue(value: unknown): unknown {
  if (
    value !== null && typeof value === "object" && !Array.isArray(value) &&
    Object.keys(value).length === 1 && "$u64" in value
  ) {
    const digits = value.$u64;
    if (typeof digits !== "string" || !/^\d{1,20}$/.test(digits)) {
      throw new Error(`a bad counter ${JSON.stringify(value)}`);
    }
    return new Deno.KvU64(BigInt(digits)); // throws past 2^64 - 1
  }
  return value;
}

function parseLine(text: string, check: RecordCheck): Parsed {
  const json = JSON.parse(text) as { key?: unknown; value?: unknown };
  if (!json || !Array.isArray(json.key) || !("value" in json)) {
    throw new Error('expected {"key":[…],"value":…}');
  }
  const key = json.key;
  if (key.length === 0) throw new Error("an empty key");
  if (!key.every(isKeyPart)) {
    throw new Error(`key ${JSON.stringify(key)}: not strings and numbers`);
  }
  const value = decodeValue(json.value);
  const problem = check(key, value);
  if (problem) throw new Error(`key ${JSON.stringify(key)}: ${problem}`);
  return { key, value, bytes: text.length * 2 };
}

/**
 * Writes the dumped entries. Every line is parsed before the first write, so
 * a damaged file writes nothing. Refuses a database that holds entries unless
 * `force`, which overwrites the dumped keys and leaves the others.
 */
export async function restoreKv(
  kv: Deno.Kv,
  lines: AsyncIterable<string> | Iterable<string>,
  { check, force = false, now, expiry }: {
    /** Every record is checked before anything is written. */
    check: RecordCheck;
    force?: boolean;
    /** With `expiry`: entries get back the time they had left at `now`. */
    now?: number;
    expiry?: ExpiryRules;
  },
): Promise<RestoreResult> {
  if (!force) {
    for await (const _ of kv.list({ prefix: [] }, { limit: 1 })) {
      return { ok: false, reason: "not_empty" };
    }
  }
  const entries: Parsed[] = [];
  let n = 0;
  for await (const raw of lines) {
    n++;
    const text = raw.trim();
    if (!text) continue;
    try {
      if (n === 1 && text.includes('"format"')) {
        checkHeader(text);
        continue;
      }
      entries.push(parseLine(text, check));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, reason: "bad_line", line: n, message };
    }
  }
  const at = expiry && now !== undefined
    ? expiryTimes(entries, expiry)
    : entries.map(() => null);
  let atomic = kv.atomic();
  let mutations = 0;
  let bytes = 0;
  let expired = 0;
  for (const [i, entry] of entries.entries()) {
    const expireAt = at[i];
    if (expireAt !== null && expireAt <= now!) {
      expired++;
      continue;
    }
    if (
      mutations === MAX_MUTATIONS ||
      (mutations > 0 && bytes + entry.bytes > MAX_BATCH_BYTES)
    ) {
      await commit(atomic);
      atomic = kv.atomic();
      mutations = 0;
      bytes = 0;
    }
    atomic.set(
      entry.key,
      entry.value,
      expireAt === null ? {} : { expireIn: expireAt - now! },
    );
    mutations++;
    bytes += entry.bytes;
  }
  if (mutations) await commit(atomic);
  return { ok: true, count: entries.length - expired, expired };
}

/** A dump without a header (format 1) is read as before. */
function checkHeader(text: string) {
  const header = JSON.parse(text) as Partial<DumpHeader>;
  if (header.format !== DUMP_FORMAT) {
    throw new Error(`not a ${DUMP_FORMAT} header`);
  }
  if (
    typeof header.formatVersion !== "number" ||
    header.formatVersion > DUMP_FORMAT_VERSION
  ) {
    throw new Error(
      `format version ${header.formatVersion}; this restore reads up to ${DUMP_FORMAT_VERSION}`,
    );
  }
}

async function commit(atomic: Deno.AtomicOperation) {
  // Plain sets have no checks, so only a KV failure can refuse them.
  const res = await atomic.commit();
  if (!res.ok) throw new Error("KV refused a restore batch");
}

/** Splits a byte stream into lines. */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncIterable<string> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    rest += decoder.decode(bytes, { stream: true });
    const parts = rest.split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  rest += decoder.decode();
  if (rest) yield rest;
}
