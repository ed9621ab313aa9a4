// main.ts as a real process, watched by tests/deploy/cron_probe.ts: Deno
// Deploy runs the cron jobs that top-level code registers before the server
// starts, and nothing registered later or from inside a function.
import assert from "node:assert/strict";
import { TEST_SECRET } from "./helpers.ts";
import { runMain, until } from "./deploy/run_main.ts";

async function withMain(
  fn: (run: ReturnType<typeof runMain>) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const run = runMain({
    APP_ENV: "test",
    PORT: "0",
    HOSTNAME: "127.0.0.1",
    KV_PATH: `${dir}/kv.sqlite3`,
    SECRET_KEY: TEST_SECRET,
    PASSWORD_WORKERS: "0",
  });
  try {
    await run.listening;
    await fn(run);
  } finally {
    await run.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("main: the outbox cron is registered from top-level code, before Deno.serve", async () => {
  await withMain((run) => {
    const calls = run.records.map((r) => r.call);
    assert.deepEqual(calls, ["cron", "serve"], run.lines.join("\n"));
    const [cron, serve] = run.records;
    assert.equal(cron.name, "deliver outbox");
    // Top-level module code has no function name in its frame: "at file:…".
    assert.match(cron.from ?? "", /^at file:\/\/\S+\/main\.ts:\d+:\d+$/);
    assert.doesNotMatch(serve.from ?? "", /main\.ts/, "serve comes later");
    return Promise.resolve();
  });
});

Deno.test("main: the registered cron handler sweeps once the app is up", async () => {
  await withMain(async (run) => {
    run.child.kill("SIGUSR2");
    await until(
      "the cron handler to run",
      () => run.records.some((r) => r.call === "cron-run"),
      10_000,
      () => run.lines.join("\n"),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(
      !run.records.some((r) => r.call === "cron-failed"),
      run.lines.join("\n"),
    );
  });
});

Deno.test("main: a KV_PATH outside what `deno task start` may write fails in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await startMainOnce({
      KV_PATH: `${dir}/cloud-user/kv.sqlite3`,
    });
    // Through the app's logger (so LOG_FORMAT=json keeps it JSON): stdout.
    const stdout = new TextDecoder().decode(out.stdout).trim();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 1, stdout + stderr);
    assert.equal(stderr, "", "no stack trace");
    assert.equal(stdout.split("\n").length, 1, stdout);
    assert.match(
      stdout,
      / ERROR KV_PATH: this process may not write .*cloud-user; .*--allow-write=/,
    );
    await assert.rejects(Deno.stat(`${dir}/cloud-user`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** main.ts started as `deno task start` does, with only `env`. */
async function startMainOnce(env: Record<string, string>) {
  return await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write=data",
      "--allow-sys",
      "main.ts",
    ],
    cwd: new URL("../", import.meta.url),
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

// napi-rs's own knob: the addon's loader requires this file instead of the
// one shipped for the platform. A file that is not there fails the load for
// real, as on a platform without a prebuilt addon.
const NO_ADDON = { NAPI_RS_NATIVE_LIBRARY_PATH: "/nonexistent/argon2.node" };

Deno.test("main: PASSWORD_BACKEND=native without a loadable addon fails in one line", async () => {
  const out = await startMainOnce({
    ...NO_ADDON,
    APP_ENV: "test",
    KV_PATH: ":memory:",
    SECRET_KEY: TEST_SECRET,
    PASSWORD_BACKEND: "native",
  });
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  assert.equal(out.code, 1, stdout + stderr);
  assert.equal(stderr, "", "no stack trace");
  assert.equal(stdout.split("\n").length, 1, stdout);
  assert.match(
    stdout,
    / ERROR PASSWORD_BACKEND=native: the @node-rs\/argon2 addon cannot load \(Cannot find module '\/nonexistent\/argon2\.node'\); PASSWORD_BACKEND=auto falls back to hash-wasm$/,
  );
});

Deno.test("main: without a loadable addon the default backend falls back to hash-wasm and says why", async () => {
  const run = runMain({
    ...NO_ADDON,
    APP_ENV: "test",
    PORT: "0",
    HOSTNAME: "127.0.0.1",
    KV_PATH: ":memory:",
    SECRET_KEY: TEST_SECRET,
  });
  try {
    const url = await run.listening;
    const res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.passwords, { backend: "wasm", queued: 0 });
    const log = run.lines.join("\n");
    assert.match(
      log,
      / WARN native Argon2 unavailable; using hash-wasm reason="?Cannot find module '\/nonexistent\/argon2\.node'/,
    );
    assert.match(log, /password hashing backend=wasm/);
  } finally {
    await run.stop();
  }
});
