// The stall scenario: the app's stdout is a pipe nobody reads for a while (a
// log shipper that hiccups) while requests arrive. Every request must be
// answered, and the lines dropped meanwhile counted and reported.
import type { Row } from "./report.ts";
import { appEnv, freePort, startProcess } from "./proc.ts";

export async function measureStall(opts: {
  appArgs: string[];
  kvPath: string;
  requests: number;
  holdMs: number;
  connections: number;
}): Promise<Row> {
  const port = freePort();
  const app = await startProcess({
    args: opts.appArgs,
    env: appEnv(port, opts.kvPath),
    port,
    readyPath: "/register",
    stdout: "hold",
  });
  try {
    const started = performance.now();
    let next = 0;
    let answered = 0;
    let failed = 0;
    let slowestMs = 0;
    const worker = async () => {
      while (next < opts.requests) {
        next++;
        const t = performance.now();
        try {
          const res = await fetch(`${app.url}/register`, {
            signal: AbortSignal.timeout(opts.holdMs),
          });
          await res.body?.cancel();
          if (res.status === 200) answered++;
          else failed++;
        } catch {
          failed++;
        }
        slowestMs = Math.max(slowestMs, performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: opts.connections }, worker));
    const tookMs = performance.now() - started;
    const health = await (await fetch(`${app.url}/healthz`)).json();
    const dropped: number = health.log?.dropped ?? NaN;
    // Nobody reads stdout until the hold is over.
    const rest = opts.holdMs - (performance.now() - started);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    const out = await app.readStdout(/log lines dropped/, 5_000);
    const report = /log lines dropped.*?count[=":]+(\d+)/.exec(out);
    const reported = report ? Number(report[1]) : null;
    return {
      scenario: `stdout unread ${opts.holdMs / 1000} s, ${opts.requests} GETs`,
      value: answered,
      unit: "answered",
      baseline: { label: "requests sent", value: opts.requests },
      ratio: answered / opts.requests,
      goal: "all answered, drops reported",
      // The report comes later than /healthz's figure (the probe's own line
      // may be dropped too), so it may only be higher.
      pass: answered === opts.requests && reported !== null &&
        reported >= dropped,
      note: `${Math.round(tookMs)} ms for all, slowest ${
        Math.round(slowestMs)
      } ms; /healthz dropped ${dropped}, log line reported ${
        reported ?? "nothing"
      }${failed ? `; ${failed} failed` : ""}`,
    };
  } finally {
    await app.stop();
  }
}
