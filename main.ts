// The entry point: read the environment, start the app, stop cleanly on
// SIGTERM/SIGINT. Nothing else in the codebase reads Deno.env or opens KV.
import { loadConfig } from "./lib/config.ts";
import { startApp } from "./lib/server.ts";

const loaded = loadConfig(Deno.env.toObject());
if (!loaded.ok) {
  console.error(loaded.error);
  Deno.exit(1);
}
const config = loaded.config;
const app = await startApp(config);
console.log(
  `${config.appName} listening on ${app.url} (${config.env}, mail: ${config.mail.backend}, links: ${config.appOrigin})`,
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, async () => {
    console.log(`${signal}: shutting down`);
    await app.shutdown();
    Deno.exit(0);
  });
}
