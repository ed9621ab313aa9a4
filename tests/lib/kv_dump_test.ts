// db:dump / db:restore: every key and value survives the trip through JSON
// lines, in the library and through the real `deno task` commands.
import assert from "node:assert/strict";
import { dumpKv, restoreKv } from "../../lib/kv/dump.ts";
import { expiryTimes } from "../../lib/kv/expiry.ts";
import { recordProblem, recordSchemas } from "../../lib/app/records.ts";
import { DatabaseSync } from "node:sqlite";
import denoJson from "../../deno.json" with { type: "json" };
import { outboxDrained, startTestApp } from "../helpers.ts";

// A year ahead: nothing has expired when db:restore (real clock) reads them.
const T = Date.now() + 365 * 86_400_000;

function user(id: string, email: string, pendingUntil: number | null) {
  return {
    id,
    firstName: "Ada",
    email,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    lang: "en",
    isActivated: pendingUntil === null,
    isActive: true,
    createdAt: T,
    activatedAt: pendingUntil === null ? T : null,
    pendingUntil,
    tokenVersion: 0,
  };
}

function outboxEntry(id: string) {
  return {
    id,
    signal: { type: "user_registered", userId: "u1" },
    createdAt: T,
    attempts: 0,
    lastError: null,
    lastAttemptAt: null,
    leaseUntil: 0,
    nextAttemptAt: T,
  };
}

/** One record of every kind the app stores (lib/app/records.ts). */
const SAMPLES: [Deno.KvKey, unknown][] = [
  [["users", "u1"], { ...user("u1", "ada@example.com", T), mailedAt: T }],
  [["users", "u2"], user("u2", "bob@example.com", null)],
  [["users_by_email", "ada@example.com"], "u1"],
  [["sessions", "h1"], { userId: "u2", createdAt: T, expiresAt: T + 1 }],
  [["sessions_by_user", "u2", "h1"], T],
  [["sessions", "h2"], {
    userId: "u1",
    createdAt: T,
    expiresAt: T + 1,
    epoch: 0,
    client: { browser: "Firefox 128", os: "Linux", address: "203.0.113.x" },
    lastUsedAt: T,
  }],
  [["audit_events", "u1", "0190"], {
    type: "session_ended",
    at: T,
    client: { browser: null, os: null, address: "2001:db8:1::/48" },
    ended: { browser: "Safari 17", os: "iOS", address: null },
  }],
  [["outbox", "o1"], outboxEntry("o1")],
  [["outbox_dead", "o2"], { ...outboxEntry("o2"), deadAt: T }],
  [["signals_undelivered", "o1"], { outboxId: "o1" }],
  [["rate_limits", "register", "ip:1.2.3.4", T], 3],
  [["login_attempts", "ada@example.com", "1.2.3.4"], { count: 2, lastAt: T }],
  [["cooldowns", "resend", "ada@example.com"], T],
  [["hash_turns", "ada@example.com"], { until: T }],
  [["email_changes", "u1"], {
    id: "c1",
    fromEmail: "ada@example.com",
    toEmail: "ada@example.org",
    requestedAt: T,
    expiresAt: T + 1,
  }],
  [["email_undos", "u1", "d1"], {
    id: "d1",
    fromEmail: "ada@example.net",
    toEmail: "ada@example.com",
    changedAt: T,
    expiresAt: T + 1,
  }],
  [["login_failures", "ada@example.com", "1.2.3.0/24"], T],
  [["counters", "outbox_added"], new Deno.KvU64(18446744073709551615n)],
  [["mail_budget", "global", "all", T], new Deno.KvU64(7n)],
  [["dev_secret_key"], "héllo, мир 👋"],
];

Deno.test("kv dump: the samples cover every table the app stores", () => {
  assert.deepEqual(
    new Set(SAMPLES.map(([key]) => key[0])),
    new Set(Object.keys(recordSchemas)),
  );
});

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

const HEADER = { appVersion: "9.9.9", now: Date.UTC(2026, 0, 2) };

/** The dump's entry lines, after its header line (checked here). */
async function dumpToLines(kv: Deno.Kv): Promise<string[]> {
  let text = "";
  await dumpKv(kv, (line) => {
    text += line;
  }, HEADER);
  const [header, ...lines] = text.split("\n").filter(Boolean);
  assert.deepEqual(JSON.parse(header), {
    format: "cloud-user-kv-dump",
    formatVersion: 2,
    appVersion: "9.9.9",
    dumpedAt: "2026-01-02T00:00:00.000Z",
  });
  return lines;
}

Deno.test("kv dump: every kind of key and value survives a round trip", async () => {
  const source = await Deno.openKv(":memory:");
  const target = await Deno.openKv(":memory:");
  try {
    for (const [key, value] of SAMPLES) await source.set(key, value);
    const lines = await dumpToLines(source);
    assert.equal(lines.length, SAMPLES.length);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line));
    const res = await restoreKv(target, lines, { check: recordProblem });
    assert.deepEqual(res, { ok: true, count: SAMPLES.length, expired: 0 });
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
  // The deliverer deletes an outbox entry just after sending: wait for it,
  // or the dump and the comparison can see different data.
  await outboxDrained(app);
  const target = await Deno.openKv(":memory:");
  try {
    const lines = await dumpToLines(app.kv);
    assert.ok(lines.length >= 4);
    assert.ok((await restoreKv(target, lines, { check: recordProblem })).ok);
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
      for (let j = i; j < i + 500; j++) {
        atomic.set(["sessions_by_user", "u1", `h${j}`], j);
      }
      await atomic.commit();
    }
    for (let i = 0; i < 30; i++) {
      await source.set(["users_by_email", `big${i}`], "x".repeat(60_000) + i);
    }
    const res = await restoreKv(target, await dumpToLines(source), {
      check: recordProblem,
    });
    assert.deepEqual(res, { ok: true, count: 2_530, expired: 0 });
    await assertSameData(source, target);
  } finally {
    source.close();
    target.close();
  }
});

Deno.test("kv dump: restore refuses a non-empty database unless forced", async () => {
  const target = await Deno.openKv(":memory:");
  try {
    const a = ["users_by_email", "a@example.com"];
    await target.set(["keep"], "mine");
    await target.set(a, "old");
    const lines = [JSON.stringify({ key: a, value: "new" })];
    assert.deepEqual(await restoreKv(target, lines, { check: recordProblem }), {
      ok: false,
      reason: "not_empty",
    });
    assert.equal((await target.get(a)).value, "old");
    assert.deepEqual(
      await restoreKv(target, lines, { check: recordProblem, force: true }),
      {
        ok: true,
        count: 1,
        expired: 0,
      },
    );
    assert.equal((await target.get(a)).value, "new");
    assert.equal((await target.get(["keep"])).value, "mine");
  } finally {
    target.close();
  }
});

Deno.test("kv dump: a corrupt record is refused by line and key, and nothing is written", async () => {
  const target = await Deno.openKv(":memory:");
  try {
    const good = SAMPLES.map(([key, value]) =>
      JSON.stringify({
        key,
        value: value instanceof Deno.KvU64 ? { $u64: `${value.value}` } : value,
      })
    );
    const { passwordHash: _, ...noHash } = user("u3", "c@example.com", null);
    const corrupt: [string, RegExp][] = [
      [
        JSON.stringify({ key: ["users", "u3"], value: noHash }),
        /^key \["users","u3"\]: fails its schema at passwordHash/,
      ],
      [
        JSON.stringify({ key: ["sessions_by_user", "u", "h"], value: "x" }),
        /^key \["sessions_by_user","u","h"\]: fails its schema/,
      ],
      [
        JSON.stringify({ key: ["counters", "x"], value: 5 }),
        /^key \["counters","x"\]: fails its schema/,
      ],
      [
        JSON.stringify({ key: ["counters", "x"], value: { $u64: "-1" } }),
        /a bad counter/,
      ],
      [
        JSON.stringify({ key: ["mail_budget", "x"], value: { $u64: "1e3" } }),
        /a bad counter/,
      ],
      [
        JSON.stringify({ key: ["nope", 1], value: 1 }),
        /^key \["nope",1\]: unknown table "nope"/,
      ],
      [JSON.stringify({ key: [true], value: 1 }), /not strings and numbers/],
      ['{"key":[],"value":1}', /an empty key/],
      ["{not json", /JSON/],
      ['{"key":["x"]}', /expected/],
    ];
    for (const [bad, message] of corrupt) {
      // The corrupt record comes last, after a good one of every kind.
      const res = await restoreKv(target, [...good, "", bad], {
        check: recordProblem,
      });
      assert.equal(res.ok, false, bad);
      assert.ok(!res.ok && res.reason === "bad_line");
      assert.equal(res.line, good.length + 2, bad);
      assert.match(res.message, message);
      assert.deepEqual(await allEntries(target), [], "nothing written");
    }
  } finally {
    target.close();
  }
});

Deno.test("kv dump: refuses to dump what JSON would lose", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    for (
      const [key, value] of [
        [["users", "d"], { at: new Date(0) }],
        [["users", "n"], NaN],
        [["users", "b"], 1n],
        [["users", new Uint8Array([1])], "x"],
      ] as [Deno.KvKey, unknown][]
    ) {
      await kv.set(key, value);
      await assert.rejects(dumpToLines(kv), /not JSON|cannot dump/);
      await kv.delete(key);
    }
  } finally {
    kv.close();
  }
});

Deno.test("kv dump: a header from a newer format is refused; a dump without one still reads", async () => {
  const target = await Deno.openKv(":memory:");
  try {
    const entry = JSON.stringify({
      key: ["users_by_email", "a@x"],
      value: "u1",
    });
    const newer = JSON.stringify({
      format: "cloud-user-kv-dump",
      formatVersion: 3,
      appVersion: "x",
      dumpedAt: "",
    });
    const res = await restoreKv(target, [newer, entry], {
      check: recordProblem,
    });
    assert.equal(res.ok, false);
    assert.match(
      !res.ok && res.reason === "bad_line" ? res.message : "",
      /format version 3/,
    );
    assert.deepEqual(await allEntries(target), []);
    assert.deepEqual(
      await restoreKv(target, [entry], { check: recordProblem }),
      {
        ok: true,
        count: 1,
        expired: 0,
      },
    );
  } finally {
    target.close();
  }
});

Deno.test("kv dump: restore gives pending users, sessions and limits the time they had left", async () => {
  const HOUR = 3_600_000;
  const now = Date.now();
  await using app = await startTestApp();
  app.clock.time = now;
  await app.browser().register({ email: "ada@example.com" });
  await app.mailer.waitFor(1);
  await outboxDrained(app);
  // A pending user, its index and a rate counter from the registration;
  // a session that ends in an hour; one that has ended; a cooldown.
  await app.kv.set(["sessions", "live"], {
    userId: "u1",
    createdAt: now - HOUR,
    expiresAt: now + HOUR,
  });
  await app.kv.set(["sessions_by_user", "u1", "live"], now - HOUR);
  await app.kv.set(["sessions", "over"], {
    userId: "u1",
    createdAt: now - 3 * HOUR,
    expiresAt: now - HOUR,
  });
  await app.kv.set(["sessions_by_user", "u1", "over"], now - 3 * HOUR);
  await app.kv.set(["cooldowns", "resend", "x"], now + 30_000);
  const lines = await dumpToLines(app.kv);

  const target = await Deno.openKv(":memory:");
  try {
    const res = await restoreKv(target, lines, {
      check: recordProblem,
      now,
      expiry: { rateWindowMs: 15 * 60_000 },
    });
    assert.ok(res.ok);
    assert.equal(res.expired, 2, "the ended session and its index");
    assert.equal((await target.get(["sessions", "over"])).value, null);
    assert.ok((await target.get(["sessions", "live"])).value);
    // KV does not return expireIn: the times the restore gave are checked
    // through the rule here, and KV acting on them in the next test.
    const entries = [];
    for await (const e of target.list({ prefix: [] })) entries.push(e);
    const at = expiryTimes(entries, { rateWindowMs: 15 * 60_000 });
    const byKind = new Map(entries.map((e, i) => [String(e.key[0]), at[i]]));
    const pendingTtl = app.deps.config.pendingUserTtlMs;
    assert.equal(byKind.get("users"), now + pendingTtl);
    assert.equal(byKind.get("users_by_email"), now + pendingTtl);
    assert.equal(byKind.get("sessions"), now + HOUR);
    assert.equal(byKind.get("sessions_by_user"), now + HOUR);
    assert.equal(byKind.get("cooldowns"), now + 30_000 + 60_000);
    assert.ok(byKind.get("rate_limits")! > now, "the counter's window");
    assert.equal(byKind.get("dev_secret_key") ?? null, null);
  } finally {
    target.close();
  }
});

Deno.test("kv dump: KV stores the restored expiry times (read from its SQLite file)", async () => {
  const HOUR = 3_600_000;
  const now = Date.now();
  const lines = [
    { key: ["users", "u1"], value: user("u1", "a@example.com", now + HOUR) },
    { key: ["users_by_email", "a@example.com"], value: "u1" },
    { key: ["cooldowns", "resend", "a@example.com"], value: now + 30_000 },
    { key: ["outbox", "o1"], value: outboxEntry("o1") },
  ].map((e) => JSON.stringify(e));
  const dir = await Deno.makeTempDir();
  try {
    const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
    const res = await restoreKv(kv, lines, {
      check: recordProblem,
      now,
      expiry: { rateWindowMs: 60_000 },
    });
    kv.close();
    assert.deepEqual(res, { ok: true, count: 4, expired: 0 });
    // Reads never return expireIn; Deno's SQLite backend keeps it per row.
    const db = new DatabaseSync(`${dir}/kv.sqlite3`, { readOnly: true });
    const rows = db.prepare("select expiration_ms from kv").all()
      .map((r) => Number(r.expiration_ms)).sort((a, b) => a - b);
    db.close();
    assert.equal(rows.length, 4);
    assert.equal(rows[0], -1, "the outbox entry stays");
    const expected = [now + 90_000, now + HOUR, now + HOUR];
    rows.slice(1).forEach((at, i) => {
      assert.ok(Math.abs(at - expected[i]) < 5_000, `${at} vs ${expected[i]}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
    assert.equal((await Deno.stat(dump)).mode! & 0o777, 0o600);
    const header = JSON.parse((await Deno.readTextFile(dump)).split("\n")[0]);
    assert.equal(header.format, "cloud-user-kv-dump");
    assert.equal(header.appVersion, denoJson.version);
    assert.ok(Math.abs(Date.parse(header.dumpedAt) - Date.now()) < 60_000);
    const restored = await task(["db:restore", dump], { KV_PATH: to });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /restored \d+ entries/);

    const again = await task(["db:restore", dump], { KV_PATH: to });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds entries.*--force/);
    assert.ok(!again.stderr.includes("    at "), "no stack trace");
    const forced = await task(["db:restore", dump, "--force"], { KV_PATH: to });
    assert.equal(forced.code, 0, forced.stderr);

    // A corrupt record: refused by line and key, nothing written.
    const corrupt = `${dir}/corrupt.jsonl`;
    const text = await Deno.readTextFile(dump);
    await Deno.writeTextFile(
      corrupt,
      text + JSON.stringify({ key: ["users", "u9"], value: { id: "u9" } }),
    );
    const empty = `${dir}/empty.sqlite3`;
    const refused = await task(["db:restore", corrupt], { KV_PATH: empty });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `^line ${
          SAMPLES.length + 2
        }: key \\["users","u9"\\]: fails its schema.*; nothing was written`,
      ),
    );
    const untouched = await Deno.openKv(empty);
    try {
      assert.deepEqual(await allEntries(untouched), []);
    } finally {
      untouched.close();
    }

    const bad = await task(["db:restore", "--wat"], { KV_PATH: to });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^usage:/);

    // A database that does not exist: an error, and no file made.
    const missing = `${dir}/missing/kv.sqlite3`;
    const none = await task(["db:dump", `${dir}/none.jsonl`], {
      KV_PATH: missing,
    });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /KV_PATH: .*missing\/kv\.sqlite3 does not exist/);
    assert.ok(!none.stderr.includes("    at "), "no stack trace");
    await assert.rejects(Deno.stat(`${dir}/missing`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${dir}/none.jsonl`), Deno.errors.NotFound);

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
