// The entry point: read the environment, start the app, stop cleanly on
// SIGTERM/SIGINT. Nothing else in the codebase reads Deno.env or opens KV.
import { loadConfig } from "./lib/app/config.ts";
import { createLogger } from "./lib/app/log.ts";
import { StartupError } from "./lib/kv/open.ts";
import { type RunningApp, startApp } from "./lib/app/server.ts";

const SWEEP_INTERVAL_MS = 60_000;

let running: RunningApp | null = null;

// Deno Deploy picks up cron jobs only when module top-level code registers
// them before any server starts; a call inside a function, a conditional or
// a callback is not seen. So this comes first and unconditionally (`?.` for
// runtimes without Deno.cron, which get a timer below). It sweeps once the
// app is running and does nothing before.
const hasCron = typeof Deno.cron === "function";
Deno.cron?.("deliver outbox", "* * * * *", async () => {
  await running?.sweep();
});

const loaded = loadConfig(Deno.env.toObject());
if (!loaded.ok) {
  // No config, but LOG_FORMAT=json still means every line is JSON.
  const format = Deno.env.get("LOG_FORMAT") === "json" ? "json" : "text";
  const log = createLogger({ format });
  log.error(loaded.error);
  await log.flush();
  Deno.exit(1);
}
const config = loaded.config;
const log = createLogger({
  format: config.logFormat,
  level: config.logLevel,
  bufferLines: config.logBufferLines,
});
try {
  running = await startApp(config, {
    log,
    sweepEveryMs: hasCron ? undefined : SWEEP_INTERVAL_MS,
  });
} catch (err) {
  if (!(err instanceof StartupError)) throw err;
  log.error(err.message);
  await log.flush();
  Deno.exit(1);
}
const app = running;
log.notice(`${config.appName} listening on ${app.url}`, {
  env: config.env,
  mail: config.mail.backend,
  links: config.appOrigin,
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, async () => {
    log.notice("shutting down", { signal });
    await app.shutdown();
    log.notice("stopped");
    await log.flush();
    Deno.exit(0);
  });
}
