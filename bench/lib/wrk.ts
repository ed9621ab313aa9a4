// Runs Debian's wrk (one thread: this machine has two cores and the server
// needs them) with one of bench/lua/*.lua and reads the JSON line its done()
// prints. Installs wrk with apt-get when it is missing.

export interface WrkResult {
  requests: number;
  /** Requests per second over the measured duration. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors, timeouts and unexpected answers, all together. */
  failures: number;
  /** Requests sent after the prepared tokens ran out (activation only). */
  exhausted: number;
}

export interface WrkOptions {
  url: string;
  script: "get" | "register" | "activate";
  args: string[];
  seconds: number;
  connections: number;
  /** Milliseconds each connection waits between requests (steady rate). */
  paceMs?: number;
  timeoutSeconds?: number;
}

const LUA_DIR = new URL("../lua/", import.meta.url);
const WRK = "/usr/bin/wrk";

export async function ensureWrk(): Promise<void> {
  try {
    await Deno.stat(WRK);
    return;
  } catch {
    // fall through to installing it
  }
  console.error("wrk is missing; installing it with apt-get");
  for (const args of [["update"], ["install", "-y", "wrk"]]) {
    const res = await new Deno.Command("apt-get", { args, stdout: "null" })
      .output();
    if (!res.success) {
      throw new Error(
        `apt-get ${
          args.join(" ")
        } failed; install wrk by hand (apt-get install wrk)`,
      );
    }
  }
}

async function writeScript(opts: WrkOptions, dir: string): Promise<string> {
  const common = await Deno.readTextFile(new URL("common.lua", LUA_DIR));
  const body = await Deno.readTextFile(new URL(`${opts.script}.lua`, LUA_DIR));
  const pace = opts.paceMs
    ? `\nfunction delay()\n  return ${opts.paceMs}\nend\n`
    : "";
  const path = `${dir}/${opts.script}-${crypto.randomUUID()}.lua`;
  await Deno.writeTextFile(path, `${common}\n${body}${pace}`);
  return path;
}

export async function runWrk(
  opts: WrkOptions,
  dir: string,
): Promise<WrkResult> {
  const script = await writeScript(opts, dir);
  const res = await new Deno.Command(WRK, {
    args: [
      "-t1",
      `-c${opts.connections}`,
      `-d${opts.seconds}s`,
      `--timeout=${opts.timeoutSeconds ?? 5}s`,
      "-s",
      script,
      opts.url,
      "--",
      ...opts.args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(res.stdout);
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!res.success || !line) {
    throw new Error(
      `wrk failed: ${out}\n${new TextDecoder().decode(res.stderr)}`,
    );
  }
  const r = JSON.parse(line.slice("BENCH_JSON ".length));
  return {
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    maxMs: r.max_us / 1000,
    failures: r.socket_errors + r.timeouts + r.bad,
    exhausted: r.exhausted,
  };
}
