// Peak memory of the app over a burst of sign-ups, run the way Deno Deploy
// runs it: `deno run -A main.ts`, no runtime flags (so no --expose-gc for the
// password workers). Prints one JSON line; docs/deploy.md quotes it against
// Deploy's default memory limit.
//   deno run -A bench/signup_rss.ts [SIGNUPS=200] [PASSWORD_WORKERS]
import { appEnv, freePort, startProcess } from "./lib/proc.ts";

const SIGNUPS = Number(Deno.args[0] ?? 200);
const WORKERS = Deno.args[1];
const CONCURRENCY = 8;
const PASSWORD = "Tr0ub4dor-zebra-quilt-42";

const dir = await Deno.makeTempDir();
const port = freePort();
const app = await startProcess({
  args: ["run", "-A", "main.ts"],
  env: appEnv(port, `${dir}/kv.sqlite3`, {
    MAIL_BACKEND: "console",
    // Deploy has no KV queues: the request's own attempt and the cron deliver.
    SIGNAL_QUEUE: "none",
    ...(WORKERS ? { PASSWORD_WORKERS: WORKERS } : {}),
  }),
  port,
  readyPath: "/register",
});
try {
  const idle = await app.peakRssMib();
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < SIGNUPS) {
        const n = next++;
        const res = await fetch(`${app.url}/register`, {
          method: "POST",
          headers: { origin: app.url },
          body: new URLSearchParams({
            first_name: "Ada",
            email: `rss-${n}@example.com`,
            password: PASSWORD,
            password_confirm: PASSWORD,
          }),
          redirect: "manual",
        });
        await res.body?.cancel();
        if (res.status !== 303) failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({
    signups: SIGNUPS,
    failed,
    passwordWorkers: WORKERS ?? "default (cores - 1, at most 8)",
    cores: navigator.hardwareConcurrency,
    seconds: Math.round(seconds * 10) / 10,
    idlePeakRssMib: Math.round(idle),
    peakRssMib: Math.round(await app.peakRssMib()),
    deno: Deno.version.deno,
  }));
} finally {
  await app.stop();
  await Deno.remove(dir, { recursive: true });
}
