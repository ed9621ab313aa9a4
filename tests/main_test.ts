// main.ts as a real process, watched by tests/deploy/cron_probe.ts: Deno
// Deploy runs the cron jobs that top-level code registers before the server
// starts, and nothing registered later or from inside a function.
import assert from "node:assert/strict";
import { TEST_SECRET } from "./helpers.ts";

const ROOT = new URL("../", import.meta.url);

interface ProbeRecord {
  call: string;
  name?: string;
  from?: string;
}

async function runMain(env: Record<string, string>) {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--preload", "tests/deploy/cron_probe.ts", "main.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
      NO_COLOR: "1",
      APP_ENV: "test",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      KV_PATH: `${dir}/kv.sqlite3`,
      SECRET_KEY: TEST_SECRET,
      PASSWORD_WORKERS: "0",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const records: ProbeRecord[] = [];
  const lines: string[] = [];
  const listening = Promise.withResolvers<void>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith("cron-probe ")) {
          records.push(JSON.parse(line.slice("cron-probe ".length)));
        }
        if (/listening on http/.test(line)) listening.resolve();
      }
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  const exited = child.status.then(async (status) => {
    await reading;
    listening.reject(new Error(`exited ${status.code}: ${lines.join("\n")}`));
    return status;
  });
  return { child, records, lines, listening: listening.promise, exited, dir };
}

Deno.test("main: the outbox cron is registered from top-level code, before Deno.serve", async () => {
  const run = await runMain({});
  try {
    await run.listening;
    const calls = run.records.map((r) => r.call);
    assert.deepEqual(calls, ["cron", "serve"], run.lines.join("\n"));
    const [cron, serve] = run.records;
    assert.equal(cron.name, "deliver outbox");
    // Top-level module code has no function name in its frame: "at file:…".
    assert.match(cron.from ?? "", /^at file:\/\/\S+\/main\.ts:\d+:\d+$/);
    assert.doesNotMatch(serve.from ?? "", /main\.ts/, "serve comes later");
  } finally {
    try {
      run.child.kill("SIGTERM");
    } catch {
      // already gone; its output is in the assertion above
    }
    await run.exited;
    await Deno.remove(run.dir, { recursive: true });
  }
});

Deno.test("main: the registered cron handler sweeps once the app is up", async () => {
  const run = await runMain({});
  try {
    await run.listening;
    run.child.kill("SIGUSR2");
    const deadline = Date.now() + 10_000;
    while (!run.records.some((r) => r.call === "cron-run")) {
      assert.ok(Date.now() < deadline, run.lines.join("\n"));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(run.records.find((r) => r.call === "cron-run"), {
      call: "cron-run",
      ok: true,
    });
  } finally {
    try {
      run.child.kill("SIGTERM");
    } catch {
      // already gone; its output is in the assertion above
    }
    await run.exited;
    await Deno.remove(run.dir, { recursive: true });
  }
});
