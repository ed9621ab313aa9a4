// Every KV entry as one JSON line ({"key":[…],"value":…}) and back, so an
// operator can move the data between databases. What KV does not expose is
// not dumped: an entry's expireIn (reads do not return it; the app checks its
// own timestamps, so a restored expired record is ignored, not revived) and
// messages waiting in the KV queue (the outbox entries they point at are
// dumped, and the sweep delivers them).
import {
  decodeKey,
  decodeValue,
  encodeKey,
  encodeValue,
  type Json,
} from "./kv_codec.ts";

/** Deno KV's limits for one atomic commit. */
const MAX_MUTATIONS = 1000;
const MAX_BATCH_BYTES = 800_000;

export async function dumpKv(
  kv: Deno.Kv,
  write: (line: string) => void | Promise<void>,
): Promise<number> {
  let count = 0;
  for await (const entry of kv.list({ prefix: [] }, { batchSize: 500 })) {
    const line = JSON.stringify({
      key: encodeKey(entry.key),
      value: encodeValue(entry.value),
    });
    await write(line + "\n");
    count++;
  }
  return count;
}

export type RestoreResult =
  | { ok: true; count: number }
  | { ok: false; reason: "not_empty" }
  | { ok: false; reason: "bad_line"; line: number; message: string };

interface Parsed {
  key: Deno.KvKey;
  value: unknown;
  /** A generous guess at the commit size (UTF-16 strings count double). */
  bytes: number;
}

function parseLine(text: string): Parsed {
  const json = JSON.parse(text) as { key?: Json; value?: Json };
  if (!json || !Array.isArray(json.key) || !("value" in json)) {
    throw new Error('expected {"key":[…],"value":…}');
  }
  if (json.key.length === 0) throw new Error("an empty key");
  return {
    key: decodeKey(json.key),
    value: decodeValue(json.value as Json),
    bytes: text.length * 2,
  };
}

/**
 * Writes the dumped entries. Every line is parsed before the first write, so
 * a damaged file writes nothing. Refuses a database that holds entries unless
 * `force`, which overwrites the dumped keys and leaves the others.
 */
export async function restoreKv(
  kv: Deno.Kv,
  lines: AsyncIterable<string> | Iterable<string>,
  { force = false } = {},
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
      entries.push(parseLine(text));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, reason: "bad_line", line: n, message };
    }
  }
  let atomic = kv.atomic();
  let mutations = 0;
  let bytes = 0;
  for (const entry of entries) {
    if (
      mutations === MAX_MUTATIONS ||
      (mutations > 0 && bytes + entry.bytes > MAX_BATCH_BYTES)
    ) {
      await commit(atomic);
      atomic = kv.atomic();
      mutations = 0;
      bytes = 0;
    }
    atomic.set(entry.key, entry.value);
    mutations++;
    bytes += entry.bytes;
  }
  if (mutations) await commit(atomic);
  return { ok: true, count: entries.length };
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
