// Loaded with `deno run --preload` before main.ts: records, in order, every
// Deno.cron and Deno.serve call and the stack frame that made it (Deploy
// sees a cron job only when module top-level code registers it before the
// server starts). SIGUSR2 runs the registered cron handlers now, as Deploy's
// scheduler would once a minute, so a test need not wait for the minute.
// Each record is one stderr line: `cron-probe {json}`.

const report = (what: Record<string, unknown>) =>
  console.error(`cron-probe ${JSON.stringify(what)}`);

/** The first stack frame outside this file: who called the wrapper. */
function caller(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1)
    .map((l) => l.trim());
  return frames.find((f) => !f.includes("cron_probe.ts")) ?? "";
}

/** Deno's namespace has getters only: define over them. */
function replace(name: "cron" | "serve", value: unknown) {
  Object.defineProperty(Deno, name, { value, configurable: true });
}

const handlers: (() => unknown)[] = [];
const realCron = Deno.cron;
if (typeof realCron === "function") {
  // deno-lint-ignore no-explicit-any
  replace("cron", (name: string, schedule: string, ...rest: any[]) => {
    const handler = rest.at(-1) as () => unknown;
    handlers.push(handler);
    // Every run is reported, whoever calls it (the scheduler or SIGUSR2).
    rest[rest.length - 1] = async () => {
      report({ call: "cron-run", at: Date.now(), by: "schedule" });
      await handler();
    };
    report({ call: "cron", name, schedule, from: caller() });
    // deno-lint-ignore no-explicit-any
    return (realCron as any)(name, schedule, ...rest);
  });
}
const realServe = Deno.serve;
// deno-lint-ignore no-explicit-any
replace("serve", (...args: any[]) => {
  report({ call: "serve", from: caller() });
  // deno-lint-ignore no-explicit-any
  return (realServe as any)(...args);
});

Deno.addSignalListener("SIGUSR2", async () => {
  for (const handler of handlers) {
    try {
      report({ call: "cron-run", at: Date.now(), by: "signal" });
      await handler();
    } catch (err) {
      report({ call: "cron-failed", error: String(err) });
    }
  }
});
