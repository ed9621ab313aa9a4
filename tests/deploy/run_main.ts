// Runs main.ts as a real process the way Deno Deploy does (`deno run -A`,
// nothing but deno.json for unstable features), with cron_probe.ts
// preloaded to record cron and serve calls. Only the given environment.
const ROOT = new URL("../../", import.meta.url);

export interface ProbeRecord {
  call: string;
  name?: string;
  from?: string;
  at?: number;
  by?: string;
}

export interface MainProcess {
  child: Deno.ChildProcess;
  records: ProbeRecord[];
  lines: string[];
  /** The URL from the "listening on" line. */
  listening: Promise<string>;
  exited: Promise<Deno.CommandStatus>;
  /** SIGTERM (if still running), then the exit status. */
  stop(): Promise<Deno.CommandStatus>;
}

export function runMain(
  env: Record<string, string>,
  { deno = Deno.execPath() } = {},
): MainProcess {
  const child = new Deno.Command(deno, {
    args: ["run", "-A", "--preload", "tests/deploy/cron_probe.ts", "main.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      ...(Deno.env.get("DENO_DIR")
        ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
        : {}),
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const records: ProbeRecord[] = [];
  const lines: string[] = [];
  const listening = Promise.withResolvers<string>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const parts = (rest + decoder.decode(bytes, { stream: true }))
        .split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith("cron-probe ")) {
          records.push(JSON.parse(line.slice("cron-probe ".length)));
        }
        const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
        if (url) listening.resolve(url);
      }
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  const exited = child.status.then(async (status) => {
    await reading;
    listening.reject(
      new Error(`main.ts exited (${status.code}):\n${lines.join("\n")}`),
    );
    return status;
  });
  listening.promise.catch(() => {});
  return {
    child,
    records,
    lines,
    listening: listening.promise,
    exited,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      return await exited;
    },
  };
}

/** Polls `check` every 50 ms until it holds or `ms` pass. */
export async function until(
  what: string,
  check: () => boolean,
  ms: number,
  context: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}\n${context()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
