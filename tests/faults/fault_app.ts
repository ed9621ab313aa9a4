// The app in-process with a KV handle and mailer the test chooses: a real SMTP
// mailer, or a KV store with a competing writer in front of it.
import { silentLogger } from "../../lib/app/log.ts";
import { createMailer } from "../../lib/mail/index.ts";
import { createMemoryMailer } from "../../lib/mail/memory.ts";
import type { Mailer } from "../../lib/mail/types.ts";
import { startApp } from "../../lib/app/server.ts";
import { createLogger } from "../../lib/app/log.ts";
import { TestBrowser, TestClock, testConfig } from "../helpers.ts";

export async function startFaultApp(
  opts: { env?: Record<string, string>; kv?: Deno.Kv; mailer?: Mailer } = {},
) {
  const config = testConfig(opts.env);
  const kv = opts.kv ?? await Deno.openKv(":memory:");
  const logLines: string[] = [];
  const log = createLogger({
    format: "text",
    write: (_l, line) => logLines.push(line),
  });
  const mailer = opts.mailer ??
    (config.mail.backend === "smtp"
      ? createMailer(config.mail, silentLogger)
      : createMemoryMailer({ from: config.mail.from }));
  const clock = new TestClock();
  const app = await startApp(config, { kv, mailer, clock, log });
  return {
    ...app,
    kv,
    clock,
    logLines,
    browser: () => new TestBrowser(app.url),
    [Symbol.asyncDispose]: () => app.shutdown(),
  };
}

/**
 * A real KV store where, just before each atomic commit, `compete` runs real
 * writes of its own: the commit then meets a genuine write conflict.
 */
export function withCompetingWriter(
  kv: Deno.Kv,
  compete: () => Promise<void>,
): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = async () => {
            await compete();
            return await commit();
          };
          return op;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
