// Child processes for the bench: the app itself (`deno run -A main.ts`, as
// Deno Deploy runs it, on a free loopback port) and the bare baseline scripts.

const ROOT = new URL("../../", import.meta.url).pathname;

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** performance.now() when the process was spawned. */
  spawnedAt: number;
  /** Milliseconds from spawn to the first 200 on `readyPath`. */
  startMs: number;
  /** Peak resident set size so far, in MiB (VmHWM). */
  peakRssMib(): Promise<number>;
  /** With stdout "hold": reads it until `until` matches or `ms` pass. */
  readStdout(until: RegExp, ms: number): Promise<string>;
  stop(): Promise<void>;
}

export async function peakRssMib(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

/** CPU seconds a live process has used so far, all threads (/proc stat). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name, which may contain spaces: utime, stime
  // are the 14th and 15th fields overall.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

export async function startProcess(opts: {
  args: string[];
  env: Record<string, string>;
  port: number;
  readyPath: string;
  timeoutMs?: number;
  /**
   * "drain" (default): stdout is a pipe read as fast as it fills, like a log
   * shipper that keeps up; "hold": a pipe nobody reads until `readStdout`.
   */
  stdout?: "drain" | "hold" | "null";
}): Promise<ServerProcess> {
  const url = `http://127.0.0.1:${opts.port}`;
  const spawnedAt = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: opts.args,
    cwd: ROOT,
    env: opts.env,
    stdout: opts.stdout === "null" ? "null" : "piped",
    stderr: "inherit",
  }).spawn();
  const mode = opts.stdout ?? "drain";
  let held = "";
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  const drained = mode === "drain"
    ? child.stdout.pipeTo(new WritableStream()).catch(() => {})
    : Promise.resolve();
  if (mode === "hold") reader = child.stdout.getReader();
  const deadline = spawnedAt + (opts.timeoutMs ?? 20_000);
  let startMs = NaN;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url + opts.readyPath);
      await res.body?.cancel();
      if (res.status === 200) {
        startMs = performance.now() - spawnedAt;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  if (Number.isNaN(startMs)) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`${opts.args.join(" ")} did not answer within the timeout`);
  }
  return {
    url,
    pid: child.pid,
    async readStdout(until: RegExp, ms: number) {
      if (!reader) return held;
      const decoder = new TextDecoder();
      const deadline = performance.now() + ms;
      while (!until.test(held) && performance.now() < deadline) {
        const next = await Promise.race([
          reader.read(),
          new Promise<null>((r) =>
            setTimeout(() => r(null), deadline - performance.now())
          ),
        ]);
        if (!next || next.done) break;
        held += decoder.decode(next.value, { stream: true });
      }
      return held;
    },
    spawnedAt,
    startMs,
    peakRssMib: () => peakRssMib(child.pid),
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      if (reader) {
        // Unread output must not keep the process from exiting.
        (async () => {
          while (!(await reader!.read()).done) { /* discard */ }
        })().catch(() => {});
      }
      await child.status;
      clearTimeout(timer);
      await drained;
    },
  };
}

export const BENCH_SECRET = "bench-secret-key-that-is-long-enough-0123456789";

/** The app's environment for a bench run (on top of the inherited one). */
export function appEnv(
  port: number,
  kvPath: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    APP_ENV: "development",
    PORT: String(port),
    HOSTNAME: "127.0.0.1",
    APP_ORIGIN: `http://127.0.0.1:${port}`,
    KV_PATH: kvPath,
    SECRET_KEY: BENCH_SECRET,
    // Default logging (a line per request at INFO), as `deno task start`.
    MAIL_BACKEND: "memory",
    // Every request comes from 127.0.0.1: the default 30 sign-ups per IP per
    // 15 minutes would turn the register scenarios into a 429 benchmark.
    // The limiter still counts each request (its KV commit stays timed).
    RATE_LIMIT_IP: "1000000000/1m",
    RATE_LIMIT_EMAIL: "1000000000/1m",
    // Likewise the hourly mail budgets (still spent, so still timed).
    MAIL_BUDGET_PER_DOMAIN_HOUR: "1000000000",
    MAIL_BUDGET_HOUR: "1000000000",
    ...extra,
  };
}

/** Runs a bare baseline script and returns the JSON it prints last. */
export async function runScript<T>(
  script: string,
  args: string[],
  flags: string[] = [],
): Promise<T> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, script, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const out = new TextDecoder().decode(res.stdout).trim().split("\n").at(-1);
  if (!res.success || !out) throw new Error(`${script} failed`);
  return JSON.parse(out) as T;
}
