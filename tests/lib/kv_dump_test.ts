// db:dump / db:restore: every key and value survives the trip through JSON
// lines, in the library and through the real `deno task` commands.
import assert from "node:assert/strict";
import { decodeValue, encodeValue } from "../../lib/kv_codec.ts";
import { dumpKv, restoreKv } from "../../lib/kv_dump.ts";
import { outboxDrained, startTestApp } from "../helpers.ts";

const SAMPLES: [Deno.KvKey, unknown][] = [
  [["str"], "héllo, мир 👋"],
  [["num", 1], 42.5],
  [["num", -0], -0],
  [["num", 2], NaN],
  [["num", 3], -Infinity],
  [["big", 10n], 12345678901234567890n],
  [["bool", true], false],
  [["bool", false], null],
  [["bytes", new Uint8Array([0, 1, 255])], new Uint8Array([9, 8, 7])],
  [["u64"], new Deno.KvU64(18446744073709551615n)],
  [["date"], new Date("2026-05-01T12:34:56.789Z")],
  [["bad date"], new Date(NaN)],
  [["regexp"], /a+b/gi],
  [["map"], new Map<unknown, unknown>([["a", 1], [2n, new Set([1, "x"])]])],
  [["set"], new Set([new Date(0), 1n])],
  [["typed"], {
    f64: new Float64Array([1.5, -2]),
    i16: new Int16Array([-1, 300]),
    u64s: new BigUint64Array([1n, 2n ** 64n - 1n]),
    buffer: new Uint8Array([1, 2, 3]).buffer,
  }],
  [["undefined in object"], { a: undefined, b: [undefined, 1] }],
  [["dollar keys"], { $bigint: "not a tag", $u64: 1 }],
  [["single dollar key"], { $date: "2020-01-01" }],
  [["nested"], { user: { id: "1", tags: ["a"], at: new Date(5) } }],
  [["error"], new RangeError("too far")],
  [["empty string key", ""], ""],
  [["unicode key", "ключ"], []],
];

async function allEntries(kv: Deno.Kv) {
  const out: Deno.KvEntry<unknown>[] = [];
  for await (const e of kv.list({ prefix: [] })) out.push(e);
  return out;
}

/** Asserts both databases hold the same keys with the same values. */
async function assertSameData(a: Deno.Kv, b: Deno.Kv) {
  const left = await allEntries(a);
  const right = await allEntries(b);
  assert.equal(right.length, left.length);
  for (let i = 0; i < left.length; i++) {
    assert.deepStrictEqual(right[i].key, left[i].key);
    const [x, y] = [left[i].value, right[i].value];
    if (x instanceof Deno.KvU64) {
      assert.ok(y instanceof Deno.KvU64);
      assert.equal(y.value, x.value);
    } else if (x instanceof Error) {
      assert.ok(y instanceof Error);
      assert.equal(y.constructor, x.constructor);
      assert.equal(y.message, x.message);
    } else {
      assert.deepStrictEqual(
        y,
        x,
        JSON.stringify(
          left[i].key,
          (_, v) => typeof v === "bigint" ? `${v}n` : v,
        ),
      );
    }
  }
}

async function dumpToLines(kv: Deno.Kv): Promise<string[]> {
  let text = "";
  await dumpKv(kv, (line) => {
    text += line;
  });
  return text.split("\n").filter(Boolean);
}

Deno.test("kv dump: every kind of key and value survives a round trip", async () => {
  const source = await Deno.openKv(":memory:");
  const target = await Deno.openKv(":memory:");
  try {
    for (const [key, value] of SAMPLES) await source.set(key, value);
    const lines = await dumpToLines(source);
    assert.equal(lines.length, SAMPLES.length);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line));
    const res = await restoreKv(target, lines);
    assert.deepEqual(res, { ok: true, count: SAMPLES.length });
    await assertSameData(source, target);
  } finally {
    source.close();
    target.close();
  }
});

Deno.test("kv dump: the app's own data (user, index, outbox) comes back whole", async () => {
  await using app = await startTestApp();
  await app.browser().register({ email: "ada@example.com" });
  await app.mailer.waitFor(1);
  await app.browser().register({ email: "bob@example.com" });
  await app.mailer.waitFor(2);
  // The sent mail's outbox entry is cleared by a commit just after the send:
  // dumped before it, the source would change under the comparison.
  await outboxDrained(app);
  const target = await Deno.openKv(":memory:");
  try {
    const lines = await dumpToLines(app.kv);
    assert.ok(lines.length >= 4);
    assert.ok((await restoreKv(target, lines)).ok);
    await assertSameData(app.kv, target);
  } finally {
    target.close();
  }
});

Deno.test("kv dump: restore batches past KV's per-commit limits", async () => {
  const source = await Deno.openKv(":memory:");
  const target = await Deno.openKv(":memory:");
  try {
    // 2,500 entries (> 1,000 mutations) and ~1.9 MB (> 800 KB per commit).
    for (let i = 0; i < 2_500; i += 500) {
      const atomic = source.atomic();
      for (let j = i; j < i + 500; j++) atomic.set(["small", j], { j });
      await atomic.commit();
    }
    for (let i = 0; i < 30; i++) {
      await source.set(["big", i], "x".repeat(60_000) + i);
    }
    const res = await restoreKv(target, await dumpToLines(source));
    assert.deepEqual(res, { ok: true, count: 2_530 });
    await assertSameData(source, target);
  } finally {
    source.close();
    target.close();
  }
});

Deno.test("kv dump: restore refuses a non-empty database unless forced", async () => {
  const target = await Deno.openKv(":memory:");
  try {
    await target.set(["keep"], "mine");
    await target.set(["a"], "old");
    const lines = [JSON.stringify({ key: ["a"], value: "new" })];
    assert.deepEqual(await restoreKv(target, lines), {
      ok: false,
      reason: "not_empty",
    });
    assert.equal((await target.get(["a"])).value, "old");
    assert.deepEqual(await restoreKv(target, lines, { force: true }), {
      ok: true,
      count: 1,
    });
    assert.equal((await target.get(["a"])).value, "new");
    assert.equal((await target.get(["keep"])).value, "mine");
  } finally {
    target.close();
  }
});

Deno.test("kv dump: a damaged line names its number and writes nothing", async () => {
  const target = await Deno.openKv(":memory:");
  try {
    const lines = [
      JSON.stringify({ key: ["a"], value: 1 }),
      "",
      JSON.stringify({ key: ["b"], value: { $nope: 1 } }),
    ];
    const res = await restoreKv(target, lines);
    assert.deepEqual(res, {
      ok: false,
      reason: "bad_line",
      line: 3,
      message: "unknown tag $nope",
    });
    for (const bad of ['{"key":[],"value":1}', "{not json", '{"key":["x"]}']) {
      const r = await restoreKv(target, [bad]);
      assert.equal(r.ok, false);
    }
    assert.deepEqual(await allEntries(target), []);
  } finally {
    target.close();
  }
});

Deno.test("kv codec: refuses what it cannot keep instead of losing it", () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.throws(() => encodeValue(circular), /circular/);
  assert.throws(
    () => encodeValue(new DataView(new ArrayBuffer(2))),
    /DataView/,
  );
  assert.throws(() => encodeValue(Symbol("x")), /symbol/);
  // A shared (not circular) part is fine: it is written twice.
  const shared = { n: 1 };
  assert.deepEqual(decodeValue(encodeValue({ a: shared, b: shared })), {
    a: { n: 1 },
    b: { n: 1 },
  });
});

// The real commands, as an operator runs them: file KV → JSON lines → file KV.
async function task(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    env: { ...env, NO_COLOR: "1" },
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("db:dump / db:restore: moves a file database to another", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const from = `${dir}/from.sqlite3`;
    const to = `${dir}/to.sqlite3`;
    const dump = `${dir}/dump.jsonl`;
    const source = await Deno.openKv(from);
    for (const [key, value] of SAMPLES) await source.set(key, value);
    source.close();

    const dumped = await task(["db:dump", dump], { KV_PATH: from });
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.match(dumped.stderr, new RegExp(`dumped ${SAMPLES.length} entries`));
    const restored = await task(["db:restore", dump], { KV_PATH: to });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /restored \d+ entries/);

    const again = await task(["db:restore", dump], { KV_PATH: to });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds entries.*--force/);
    assert.ok(!again.stderr.includes("    at "), "no stack trace");
    const forced = await task(["db:restore", dump, "--force"], { KV_PATH: to });
    assert.equal(forced.code, 0, forced.stderr);

    const bad = await task(["db:restore", "--wat"], { KV_PATH: to });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^usage:/);

    const [a, b] = [await Deno.openKv(from), await Deno.openKv(to)];
    try {
      await assertSameData(a, b);
    } finally {
      a.close();
      b.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
