// Runs main.ts as a real child process (its own KV handle, its own queue
// listener, real signals), for faults only a process can have.
import { TEST_SECRET } from "../helpers.ts";

const ROOT = new URL("../../", import.meta.url);

export interface AppProcess {
  url: string;
  child: Deno.ChildProcess;
  /** Every line the process printed (stdout and stderr). */
  output: string[];
  exited: Promise<Deno.CommandStatus>;
  kill(signal: Deno.Signal): void;
}

/**
 * The whole environment of a child main.ts: only what a test sets, on top of
 * a loopback test app (nothing inherited from the machine but PATH and HOME).
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
    NO_COLOR: "1",
    APP_ENV: "test",
    PORT: "0",
    HOSTNAME: "127.0.0.1",
    APP_ORIGIN: "http://app.test",
    SECRET_KEY: TEST_SECRET,
    ...env,
  };
}

export async function spawnApp(
  env: Record<string, string>,
): Promise<AppProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys",
      "main.ts",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: childEnv({ PASSWORD_WORKERS: "1", LOG_LEVEL: "warn", ...env }),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const listening = Promise.withResolvers<string>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
        if (url) listening.resolve(url);
      }
    }
    if (rest) output.push(rest);
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await reading;
    listening.reject(
      new Error(`app exited (${s.code}):\n${output.join("\n")}`),
    );
    return s;
  });
  const url = await listening.promise;
  return {
    url,
    child,
    output,
    exited,
    kill: (s) => {
      try {
        child.kill(s);
      } catch {
        // already gone
      }
    },
  };
}

/** Polls `check` every 50 ms until it holds or `ms` pass. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
