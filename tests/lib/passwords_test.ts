import assert from "node:assert/strict";
import { argon2id } from "hash-wasm";
import {
  createPasswordHasher,
  PasswordsBusyError,
} from "../../lib/security/passwords.ts";
import { HASHING_NICE } from "../../lib/security/thread_priority.ts";

const PARAMS = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/;

/** A worker from source text, for the pool's failure paths. */
const workerFrom = (source: string) =>
  `data:application/javascript,${encodeURIComponent(source)}`;

Deno.test("passwords: a hash verifies its password and no other", async () => {
  const hasher = await createPasswordHasher({ workers: 0 });
  const encoded = await hasher.hash("correct horse battery staple");
  assert.equal(
    await hasher.verify("correct horse battery staple", encoded),
    true,
  );
  assert.equal(
    await hasher.verify("correct horse battery stapler", encoded),
    false,
  );
  assert.equal(await hasher.verify("", encoded), false);
  hasher.close();
});

Deno.test("passwords: hashes use OWASP parameters or stronger and fresh salts", async () => {
  const hasher = await createPasswordHasher({ workers: 0 });
  const [a, b] = [await hasher.hash("same"), await hasher.hash("same")];
  const [, m, t, p, salt] = PARAMS.exec(a) ?? assert.fail(a);
  assert.ok(Number(m) >= 19456 && Number(t) >= 2 && Number(p) >= 1, a);
  assert.equal(Uint8Array.fromBase64(salt).length, 16);
  assert.notEqual(PARAMS.exec(b)?.[4], salt);
  assert.notEqual(a, b);
  assert.equal(hasher.needsRehash(a), false);
  hasher.close();
});

Deno.test("passwords: malformed or hostile encoded strings verify false without hashing", async () => {
  const hasher = await createPasswordHasher({ workers: 0 });
  const salt = "c2FsdHNhbHRzYWx0c2FsdA";
  const hash = "A".repeat(43);
  const bad = [
    "",
    "plain-text-password",
    "$argon2id$",
    `$argon2i$v=19$m=19456,t=2,p=1$${salt}$${hash}`,
    `$argon2id$v=16$m=19456,t=2,p=1$${salt}$${hash}`,
    `$argon2id$v=19$t=2,m=19456,p=1$${salt}$${hash}`,
    `$argon2id$v=19$m=19456,t=2,p=1$$${hash}`,
    `$argon2id$v=19$m=19456,t=2,p=1$${salt}AAA$${hash}`,
    `$argon2id$v=19$m=19456,t=2,p=1$${salt}$${hash}$`,
    `$argon2id$v=19$m=4000000,t=2,p=1$${salt}$${hash}`,
    `$argon2id$v=19$m=19456,t=999,p=1$${salt}$${hash}`,
    `$argon2id$v=19$m=4,t=2,p=1$${salt}$${hash}`,
    `$argon2id$v=19$m=19456,t=0,p=1$${salt}$${hash}`,
    null as unknown as string,
  ];
  const started = performance.now();
  for (const encoded of bad) {
    assert.equal(await hasher.verify("pw", encoded), false, String(encoded));
    assert.equal(hasher.needsRehash(encoded), true, String(encoded));
  }
  assert.ok(performance.now() - started < 50, "something was hashed");
  hasher.close();
});

Deno.test("passwords: the same text typed composed or decomposed verifies", async () => {
  const hasher = await createPasswordHasher({ workers: 0 });
  const encoded = await hasher.hash("caf\u00e9");
  assert.equal(await hasher.verify("cafe\u0301", encoded), true);
  hasher.close();
});

Deno.test("passwords: worker pool and main thread verify each other's hashes", async () => {
  const pool = await createPasswordHasher({ workers: 2, backend: "wasm" });
  const main = await createPasswordHasher({ workers: 0, backend: "wasm" });
  try {
    assert.equal(
      await main.verify("from pool", await pool.hash("from pool")),
      true,
    );
    assert.equal(
      await pool.verify("from main", await main.hash("from main")),
      true,
    );
    assert.equal(
      await pool.verify("wrong", await main.hash("from main")),
      false,
    );
  } finally {
    pool.close();
    main.close();
  }
});

Deno.test("passwords: 8 concurrent hashes through a pool of 2 all verify", async () => {
  const pool = await createPasswordHasher({ workers: 2, backend: "wasm" });
  try {
    const passwords = Array.from({ length: 8 }, (_, i) => `password-${i}`);
    const hashes = await Promise.all(passwords.map((p) => pool.hash(p)));
    assert.equal(new Set(hashes).size, 8);
    const checks = await Promise.all(
      hashes.map((h, i) => pool.verify(passwords[(i + 1) % 8], h)),
    );
    assert.deepEqual(checks, Array(8).fill(false));
    assert.equal(await pool.verify(passwords[5], hashes[5]), true);
  } finally {
    pool.close();
  }
});

Deno.test("passwords: a closed hasher ends its workers and refuses work", async () => {
  const pool = await createPasswordHasher({ workers: 2, backend: "wasm" });
  await pool.hash("warm up the pool");
  pool.close();
  await assert.rejects(pool.hash("after close"), /closed/);
  pool.close();
});

Deno.test("passwords: a worker crash rejects the pending request instead of hanging", async () => {
  const pool = await createPasswordHasher({
    backend: "wasm",
    workers: 1,
    workerUrl: workerFrom(`
      self.postMessage({ ready: true });
      // Later than the ready message, so this is a crash, not a failed start.
      self.onmessage = () => setTimeout(() => { throw new Error("boom"); }, 50);
    `),
  });
  try {
    await assert.rejects(pool.hash("pw"), /password worker crashed/);
  } finally {
    pool.close();
  }
});

Deno.test("passwords: a worker that cannot start falls back to the main thread, said once", async () => {
  const warnings: string[] = [];
  const pool = await createPasswordHasher({
    backend: "wasm",
    workers: 2,
    workerUrl: workerFrom(`throw new Error("no workers here");`),
    log: { info() {}, warn: (msg) => warnings.push(msg) },
  });
  try {
    const encoded = await pool.hash("pw");
    assert.equal(await pool.verify("pw", encoded), true);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /main thread/);
  } finally {
    pool.close();
  }
});

Deno.test("passwords: verifyDummy costs a real verify and never throws for odd input", async () => {
  const hasher = await createPasswordHasher({ workers: 0 });
  await hasher.verifyDummy("anything");
  const real = await hasher.hash("a real password");
  // Against a real verify in the same run (no fixed budget: the machine's
  // speed and load vary); a dummy that skipped Argon2 would take ~0 ms.
  const median = async (work: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await work();
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[1];
  };
  const realMs = await median(() => hasher.verify("wrong", real));
  const dummyMs = await median(() => hasher.verifyDummy(""));
  assert.ok(
    dummyMs > realMs * 0.3,
    `dummy verify did no work: ${dummyMs} ms against ${realMs} ms`,
  );
  hasher.close();
});

Deno.test("passwords: weaker old hashes still verify but need a rehash", async () => {
  const hasher = await createPasswordHasher({ workers: 0 });
  const weak = await argon2id({
    password: "old password",
    salt: crypto.getRandomValues(new Uint8Array(16)),
    memorySize: 4096,
    iterations: 2,
    parallelism: 1,
    hashLength: 32,
    outputType: "encoded",
  });
  assert.equal(await hasher.verify("old password", weak), true);
  assert.equal(hasher.needsRehash(weak), true);
  assert.equal(
    hasher.needsRehash(weak.replace("m=4096,t=2", "m=19456,t=1")),
    true,
  );
  hasher.close();
});

Deno.test("passwords: a worker reusing its Argon2 memory gets every size and password right", async () => {
  // One worker, so every job runs on the same reused WebAssembly instance.
  const pool = await createPasswordHasher({ workers: 1, backend: "wasm" });
  try {
    const hashWith = (password: string, memorySize: number) =>
      argon2id({
        password,
        salt: crypto.getRandomValues(new Uint8Array(16)),
        memorySize,
        iterations: 2,
        parallelism: 1,
        hashLength: 32,
        outputType: "encoded",
      });
    const big = await hashWith("big memory", 19_456);
    const small = await hashWith("small memory", 4_096);
    const fromPool = await Promise.all(["a1", "b2", "c3"].map(pool.hash));
    const checks = await Promise.all([
      pool.verify("big memory", big),
      pool.verify("small memory", small),
      pool.verify("big memory", small),
      pool.verify("small memory", big),
      pool.verify("big memory", big),
      ...fromPool.map((h, i) => pool.verify(["a1", "b2", "c3"][i], h)),
      pool.verify("a1", fromPool[1]),
    ]);
    assert.deepEqual(checks, [
      true,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      false,
    ]);
    const main = await createPasswordHasher({ workers: 0 });
    assert.equal(await main.verify("c3", fromPool[2]), true);
    main.close();
  } finally {
    pool.close();
  }
});

Deno.test("passwords: the native addon loads here and says so", async () => {
  const lines: string[] = [];
  const hasher = await createPasswordHasher({
    workers: 1,
    log: { info: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`), warn() {} },
  });
  assert.equal(hasher.backend, "native");
  assert.match(lines.join("\n"), /password hashing .*"backend":"native"/);
  hasher.close();
});

Deno.test("passwords: native and hash-wasm hashes verify with either", async () => {
  const native = await createPasswordHasher({ workers: 1, backend: "native" });
  const wasm = await createPasswordHasher({ workers: 0, backend: "wasm" });
  try {
    assert.equal(wasm.backend, "wasm");
    const fromNative = await native.hash("caf\u00e9 from native");
    const fromWasm = await wasm.hash("caf\u00e9 from wasm");
    assert.match(fromNative, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await wasm.verify("cafe\u0301 from native", fromNative), true);
    assert.equal(await native.verify("cafe\u0301 from wasm", fromWasm), true);
    assert.equal(await wasm.verify("caf from native", fromNative), false);
    assert.equal(await native.verify("caf from wasm", fromWasm), false);
  } finally {
    native.close();
    wasm.close();
  }
});

Deno.test("passwords: hashes use the configured parameters; older, weaker ones need a rehash", async () => {
  const stronger = await createPasswordHasher({
    workers: 1,
    params: { memoryKib: 19_456, iterations: 3 },
  });
  const usual = await createPasswordHasher({ workers: 1 });
  try {
    const encoded = await stronger.hash("pw");
    assert.match(encoded, /\$m=19456,t=3,p=1\$/);
    assert.equal(stronger.needsRehash(encoded), false);
    const old = await usual.hash("pw");
    assert.equal(await stronger.verify("pw", old), true);
    assert.equal(stronger.needsRehash(old), true);
    assert.equal(usual.needsRehash(encoded), false);
  } finally {
    stronger.close();
    usual.close();
  }
});

Deno.test("passwords: a full queue refuses at once with a retry time, then recovers", async () => {
  const hasher = await createPasswordHasher({ workers: 1, queueLimit: 1 });
  try {
    const running = hasher.hash("first");
    const queued = hasher.hash("second");
    assert.equal(hasher.queueLength(), 1);
    const refused = await hasher.hash("third").catch((e) => e);
    assert.ok(refused instanceof PasswordsBusyError, String(refused));
    assert.ok(refused.retryAfterSeconds >= 1);
    // A verify is hashing work too: refused the same way.
    const stored = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" +
      "A".repeat(43);
    await assert.rejects(hasher.verify("first", stored), PasswordsBusyError);
    assert.equal(await hasher.verify("first", await running), true);
    assert.equal(await hasher.verify("second", await queued), true);
    assert.equal(hasher.queueLength(), 0);
  } finally {
    hasher.close();
  }
});

/**
 * Each thread of this process with its nice value, from `ps` (Deno asks for
 * --allow-all to read /proc/<pid>/task itself).
 */
async function threadNices(): Promise<{ tid: number; nice: number }[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-L", "-o", "tid=,ni=", "-p", String(Deno.pid)],
  }).output();
  return new TextDecoder().decode(stdout).trim().split("\n").map((line) => {
    const [tid, nice] = line.trim().split(/\s+/).map(Number);
    return { tid, nice };
  });
}

Deno.test({
  name:
    "passwords: the native addon hashes in worker threads at a lower priority than the pages",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const lines: string[] = [];
    const hasher = await createPasswordHasher({
      workers: 1,
      backend: "native",
      log: {
        info: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
        warn: (m) => lines.push(m),
      },
    });
    try {
      const encoded = await hasher.hash("worker thread");
      assert.equal(await hasher.verify("worker thread", encoded), true);
      const nices = await threadNices();
      const main = nices.find((t) => t.tid === Deno.pid);
      assert.equal(main?.nice, 0, "the page thread keeps its priority");
      assert.equal(
        nices.filter((t) => t.nice === HASHING_NICE).length,
        1,
        `one hashing thread at nice ${HASHING_NICE}: ${JSON.stringify(nices)}`,
      );
      assert.match(
        lines.join("\n"),
        /password workers \{"backend":"native","priority":"lowered"\}/,
      );
    } finally {
      hasher.close();
    }
  },
});

Deno.test({
  name:
    "passwords: unset, the workers take every core once they run below the pages",
  ignore: Deno.build.os !== "linux" || navigator.hardwareConcurrency < 2,
  fn: async () => {
    const cores = Math.min(navigator.hardwareConcurrency, 8);
    const hasher = await createPasswordHasher({ workers: null });
    try {
      // Before any worker said how it runs: one core is kept for the pages.
      const first = Array.from(
        { length: cores },
        (_, i) => hasher.hash(`a${i}`),
      );
      assert.equal(hasher.queueLength(), 1);
      await Promise.all(first);
      // The first worker ran at a lower priority: every core may hash.
      const second = Array.from(
        { length: cores },
        (_, i) => hasher.hash(`b${i}`),
      );
      assert.equal(hasher.queueLength(), 0);
      await Promise.all(second);
    } finally {
      hasher.close();
    }
  },
});

Deno.test("passwords: the workers start with the hasher, not in the middle of the first sign-ups", async () => {
  // `new Worker` holds the calling thread for tens of milliseconds: started
  // lazily, the first hash would stall every request under way.
  const reports: string[] = [];
  const setUp = Promise.withResolvers<void>();
  const hasher = await createPasswordHasher({
    workers: 2,
    log: {
      info: (m) => {
        if (m !== "password workers") return;
        reports.push(m);
        setUp.resolve();
      },
      warn() {},
    },
  });
  try {
    // No hash asked for, yet a worker has loaded and set itself up.
    await setUp.promise;
    assert.deepEqual(reports, ["password workers"]);
  } finally {
    hasher.close();
  }
});

Deno.test({
  name:
    "passwords: unset, workers that cannot run below the pages leave one core to them",
  ignore: navigator.hardwareConcurrency < 2,
  fn: async () => {
    const cores = Math.min(navigator.hardwareConcurrency, 8);
    const setUp = Promise.withResolvers<void>();
    // A worker that says its priority stayed (another OS, no FFI) and holds
    // every job until the test ends.
    const hasher = await createPasswordHasher({
      workers: null,
      backend: "wasm",
      workerUrl: workerFrom(`
        self.onmessage = ({ data }) => {
          if (data.setUp) {
            self.postMessage({ setUp: { backend: "wasm", priority: "not on Linux" } });
          }
        };
        self.postMessage({ ready: true });
      `),
      log: {
        info: (m) => m === "password workers" && setUp.resolve(),
        warn() {},
      },
    });
    try {
      await setUp.promise;
      const jobs = Array.from(
        { length: cores },
        (_, i) => hasher.hash(`p${i}`).catch(() => {}),
      );
      // cores - 1 run, one waits: the pages keep a core.
      assert.equal(hasher.queueLength(), 1);
      hasher.close();
      await Promise.all(jobs);
    } finally {
      hasher.close();
    }
  },
});
