// deno task db:dump [FILE]            every KV entry as JSON lines (stdout)
// deno task db:restore [FILE] [--force]   back into KV_PATH (stdin)
// The database is KV_PATH, resolved as the app does (a file, :memory:, a
// remote KV URL with DENO_KV_ACCESS_TOKEN, or Deploy's own KV).
import { loadConfig } from "../lib/app/config.ts";
import { recordProblem } from "../lib/app/records.ts";
import { dumpKv, readLines, restoreKv } from "../lib/kv/dump.ts";
import { openKv, StartupError } from "../lib/kv/open.ts";

const USAGE = `usage:
  deno task db:dump [FILE]             write every entry of KV_PATH as JSON lines
  deno task db:restore [FILE] [--force]  read them back (refuses a non-empty
                                       database unless --force)`;

function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}

const [command, ...rest] = Deno.args;
const force = rest.includes("--force");
const files = rest.filter((a) => !a.startsWith("--"));
const unknown = rest.filter((a) => a.startsWith("--") && a !== "--force");
if (
  !["dump", "restore"].includes(command) || files.length > 1 ||
  unknown.length || (force && command !== "restore")
) {
  fail(USAGE);
}

const env = Deno.env.toObject();
// Only what locates the database (and the rate windows a restore needs):
// a dump from a laptop must not ask for the app's SECRET_KEY or mail setup.
// Development rules, or on Deploy every check of production would apply.
const loaded = loadConfig({
  APP_ENV: "development",
  KV_PATH: env.KV_PATH,
  DENO_KV_ACCESS_TOKEN: env.DENO_KV_ACCESS_TOKEN,
  DENO_DEPLOYMENT_ID: env.DENO_DEPLOYMENT_ID,
  RATE_LIMIT_IP: env.RATE_LIMIT_IP,
  RATE_LIMIT_EMAIL: env.RATE_LIMIT_EMAIL,
  APP_VERSION: env.APP_VERSION,
});
if (!loaded.ok) fail(loaded.error);
const config = loaded.config;
const where = config.kvPath ?? "the default KV";

let kv: Deno.Kv;
try {
  // A dump of a database that does not exist fails rather than making one.
  kv = await openKv(config.kvPath, { create: command === "restore" });
} catch (err) {
  if (err instanceof StartupError) fail(err.message);
  fail(`cannot open ${where}: ${(err as Error).message}`);
}

try {
  if (command === "dump") {
    // Every account's password hash is in it: readable by its owner only.
    const out = files[0]
      ? await Deno.open(files[0], {
        write: true,
        create: true,
        truncate: true,
        mode: 0o600,
      })
      : Deno.stdout;
    if (files[0]) await Deno.chmod(files[0], 0o600);
    const encoder = new TextEncoder();
    const writer = out.writable.getWriter();
    const count = await dumpKv(
      kv,
      (line) => writer.write(encoder.encode(line)),
      { appVersion: config.version, now: Date.now() },
    );
    await writer.close();
    console.error(`dumped ${count} entries from ${where}`);
  } else {
    let input: ReadableStream<Uint8Array>;
    try {
      input = files[0]
        ? (await Deno.open(files[0])).readable
        : Deno.stdin.readable;
    } catch (err) {
      fail(`cannot read ${files[0]}: ${(err as Error).message}`);
    }
    const res = await restoreKv(kv, readLines(input), {
      check: recordProblem,
      force,
      now: Date.now(),
      expiry: {
        rateWindowMs: Math.max(
          config.rateLimitIp.windowMs,
          config.rateLimitEmail.windowMs,
        ),
      },
    });
    if (!res.ok && res.reason === "not_empty") {
      fail(
        `${where} already holds entries; restoring would mix two databases. ` +
          "Use an empty one, or --force to overwrite the dumped keys.",
      );
    }
    if (!res.ok && res.reason === "bad_line") {
      fail(`line ${res.line}: ${res.message}; nothing was written`);
    }
    if (res.ok) {
      console.error(
        `restored ${res.count} entries into ${where}` +
          (res.expired ? ` (${res.expired} expired, left out)` : ""),
      );
    }
  }
} catch (err) {
  fail(`${command} failed: ${(err as Error).message}`);
} finally {
  kv.close();
}
