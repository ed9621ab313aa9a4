// The entry point: read the environment, start the app, stop cleanly on
// SIGTERM/SIGINT. Nothing else in the codebase reads Deno.env or opens KV.
import { loadConfig } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { startApp } from "./lib/server.ts";

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
const app = await startApp(config, { log });
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
