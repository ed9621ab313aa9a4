// A faithful JSON form of Deno KV keys and values, for dumps an operator can
// read and move between databases. JSON has no bigint, Date, Uint8Array, Map,
// NaN or -0, so those become one-key objects tagged with "$": {"$bigint":"1"}.
// A plain object whose own keys start with "$" is wrapped in {"$object":…},
// so no stored object can be mistaken for a tag.

export type Json =
  | null
  | boolean
  | number
  | string
  | Json[]
  | { [key: string]: Json };

const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

const ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function encodeNumber(n: number): Json {
  if (Number.isNaN(n)) return { $number: "NaN" };
  if (n === Infinity) return { $number: "Infinity" };
  if (n === -Infinity) return { $number: "-Infinity" };
  if (Object.is(n, -0)) return { $number: "-0" };
  return n;
}

/** Any value Deno KV can store, as JSON. Throws on what it cannot keep. */
export function encodeValue(value: unknown, seen = new Set<object>()): Json {
  switch (typeof value) {
    case "undefined":
      return { $undefined: true };
    case "boolean":
    case "string":
      return value;
    case "number":
      return encodeNumber(value);
    case "bigint":
      return { $bigint: value.toString() };
    case "symbol":
    case "function":
      throw new TypeError(`cannot encode a ${typeof value}`);
  }
  if (value === null) return null;
  const obj = value as object;
  // JSON would silently duplicate shared parts and cannot hold a cycle.
  if (seen.has(obj)) throw new TypeError("cannot encode a circular value");
  seen.add(obj);
  try {
    return encodeObject(obj, seen);
  } finally {
    seen.delete(obj);
  }
}

function encodeObject(obj: object, seen: Set<object>): Json {
  if (obj instanceof Deno.KvU64) return { $u64: obj.value.toString() };
  if (obj instanceof Date) {
    return { $date: Number.isNaN(obj.getTime()) ? null : obj.toISOString() };
  }
  if (obj instanceof RegExp) return { $regexp: [obj.source, obj.flags] };
  if (obj instanceof ArrayBuffer) {
    return { $arraybuffer: toBase64(new Uint8Array(obj)) };
  }
  if (ArrayBuffer.isView(obj)) {
    const name = obj.constructor.name;
    if (name === "DataView" || !(name in TYPED_ARRAYS)) {
      throw new TypeError(`cannot encode a ${name}`);
    }
    const bytes = new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
    return { [`$${name}`]: toBase64(bytes) };
  }
  if (obj instanceof Map) {
    return {
      $map: [...obj].map((
        [k, v],
      ) => [encodeValue(k, seen), encodeValue(v, seen)]),
    };
  }
  if (obj instanceof Set) {
    return { $set: [...obj].map((v) => encodeValue(v, seen)) };
  }
  if (obj instanceof Error) {
    return {
      $error: {
        name: obj.name,
        message: obj.message,
        ...(obj.stack ? { stack: obj.stack } : {}),
      },
    };
  }
  if (Array.isArray(obj)) {
    // Holes read back as undefined, which structured clone would keep as holes.
    return Array.from(obj, (v) => encodeValue(v, seen));
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`cannot encode a ${obj.constructor?.name ?? "object"}`);
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = encodeValue(v, seen);
  return Object.keys(out).some((k) => k.startsWith("$"))
    ? { $object: out }
    : out;
}

export function decodeValue(json: Json): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  const entries = Object.entries(json);
  if (entries.length !== 1 || !entries[0][0].startsWith("$")) {
    return Object.fromEntries(entries.map(([k, v]) => [k, decodeValue(v)]));
  }
  const [tag, arg] = entries[0];
  switch (tag) {
    case "$undefined":
      return undefined;
    case "$number":
      return Number(arg);
    case "$bigint":
      return BigInt(arg as string);
    case "$u64":
      return new Deno.KvU64(BigInt(arg as string));
    case "$date":
      return new Date(arg === null ? NaN : arg as string);
    case "$regexp": {
      const [source, flags] = arg as [string, string];
      return new RegExp(source, flags);
    }
    case "$arraybuffer":
      return fromBase64(arg as string).buffer;
    case "$map":
      return new Map(
        (arg as [Json, Json][]).map((
          [k, v],
        ) => [decodeValue(k), decodeValue(v)]),
      );
    case "$set":
      return new Set((arg as Json[]).map(decodeValue));
    case "$error": {
      const e = arg as { name: string; message: string; stack?: string };
      const err = new (ERRORS[e.name] ?? Error)(e.message);
      if (!(e.name in ERRORS)) err.name = e.name;
      if (e.stack) err.stack = e.stack;
      return err;
    }
    case "$object":
      return Object.fromEntries(
        Object.entries(arg as Record<string, Json>).map((
          [k, v],
        ) => [k, decodeValue(v)]),
      );
  }
  const name = tag.slice(1);
  if (name in TYPED_ARRAYS) {
    const bytes = fromBase64(arg as string);
    const Ctor = TYPED_ARRAYS[name as TypedArrayName];
    return new Ctor(
      bytes.buffer,
      0,
      bytes.byteLength / Ctor.BYTES_PER_ELEMENT,
    );
  }
  throw new TypeError(`unknown tag ${tag}`);
}

/** A key part: string, number, bigint, boolean or Uint8Array. */
export function encodeKey(key: Deno.KvKey): Json[] {
  return key.map((part) => {
    if (
      typeof part === "string" || typeof part === "number" ||
      typeof part === "bigint" || typeof part === "boolean" ||
      part instanceof Uint8Array
    ) {
      return encodeValue(part);
    }
    throw new TypeError(`cannot encode key part ${String(part)}`);
  });
}

export function decodeKey(json: Json[]): Deno.KvKey {
  return json.map((part) => {
    const value = decodeValue(part);
    if (
      typeof value === "string" || typeof value === "number" ||
      typeof value === "bigint" || typeof value === "boolean" ||
      value instanceof Uint8Array
    ) {
      return value;
    }
    throw new TypeError(`not a key part: ${JSON.stringify(part)}`);
  });
}
