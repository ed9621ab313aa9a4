// lib/app/ — the assembly. server.ts wires a running app from the
// configuration; deps.ts is the contract every service is handed; records.ts
// names each table's schema for restore and the fault tests. Its foundation
// files (config, log, clock, metrics, secret_strength) import nothing of ours
// but each other and may be imported from anywhere; the rest of app/ may
// import everything and is imported by nothing but main.ts and tools/.
//
// Wires a running app: KV, mail, signing, hashing, the HTTP server, the queue
// listener and the outbox sweep. main.ts calls it with the real environment;
// tests call it with their own KV, mailer and clock.
import { createApp } from "../web/app.ts";
import type { Config } from "./config.ts";
import { type Clock } from "./clock.ts";
import { type AppDeps, createDeps } from "./deps.ts";
import { createDeliverer, SWEEP_MIN_AGE_MS } from "../outbox/deliver.ts";
import { createEmailRenderer } from "../mail/templates.ts";
import { createLogger, type Logger } from "./log.ts";
import type { Mailer } from "../mail/types.ts";
import { type PasswordHasher } from "../security/passwords.ts";
import { type I18n, loadLocales } from "../i18n/i18n.ts";
import { createRecordingMailer, type Mailbox } from "../mail/recording.ts";
import { resolveSecretKey } from "./dev_secret.ts";
import { openKv } from "../kv/open.ts";
import { type ClientGuard, guardConnections } from "../web/slow_clients.ts";

export interface StartOptions {
  kv?: Deno.Kv;
  mailer?: Mailer;
  clock?: Clock;
  log?: Logger;
  i18n?: I18n;
  /** Tests that hash thousands of passwords pass a cheaper Argon2id. */
  passwords?: PasswordHasher;
  /**
   * Sweep the outbox on a timer this often. main.ts registers Deno.cron
   * itself (Deploy only sees top-level registrations) and asks for a timer
   * only where Deno.cron is missing; tests sweep when they choose.
   */
  sweepEveryMs?: number;
}

export interface RunningApp {
  deps: AppDeps;
  /** e.g. http://127.0.0.1:8000 */
  url: string;
  server: Deno.HttpServer<Deno.NetAddr>;
  /** Resolves once no delivery or background work is under way. */
  idle(): Promise<void>;
  /** One outbox sweep, as the cron job runs it; nothing once shutting down. */
  sweep(): Promise<void>;
  /**
   * Stops accepting, finishes in-flight requests and deliveries, then closes
   * everything. After SHUTDOWN_GRACE, what still runs is abandoned: an
   * outbox entry's lease runs out and a later attempt sends it.
   */
  shutdown(): Promise<void>;
}

export async function startApp(
  config: Config,
  opts: StartOptions = {},
): Promise<RunningApp> {
  const log = opts.log ??
    createLogger({
      format: config.logFormat,
      level: config.logLevel,
      bufferLines: config.logBufferLines,
    });
  for (const warning of config.warnings) log.warn(warning);
  const kv = opts.kv ?? await openKv(config.kvPath);
  const core = await createDeps(config, {
    kv,
    log,
    secretKey: (await resolveSecretKey(kv, config))!,
    mailer: opts.mailer,
    clock: opts.clock,
    passwords: opts.passwords,
  });
  // /dev/mail: only when asked for (DEV_MAIL=1) in development, only with a
  // backend that sends nothing.
  let mailbox: Mailbox | undefined;
  let deps0 = core;
  if (
    config.devMail && config.env === "development" &&
    (config.mail.backend === "console" || config.mail.backend === "memory")
  ) {
    const recording = createRecordingMailer(core.mailer, { clock: core.clock });
    deps0 = { ...core, mailer: recording };
    mailbox = recording.mailbox;
  }
  const stop = new AbortController();
  // Deliveries and background work under way; shutdown waits for them
  // before closing KV.
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };
  // Every send it starts is tracked too: a queue message is answered once
  // its entry is claimed, before the mail is out.
  const untracked = createDeliverer(deps0, createEmailRenderer(), { track });
  const deliverer = {
    ...untracked,
    deliver: (id: string) => track(untracked.deliver(id)),
  };
  const i18n = opts.i18n ?? await loadLocales();
  const background = (what: string, work: () => Promise<unknown>) => {
    track(
      work().catch((err) => log.error(`${what} failed`, { error: err })),
    );
  };
  const deps: AppDeps = { ...deps0, deliverer, i18n, mailbox, background };

  // Set when shutdown starts: a message handed over after that is refused
  // (the queue keeps it for a retry, here or on another instance) rather
  // than sent while KV and the mailer are closing.
  let stopping = false;
  const listening = config.signalQueue === "kv"
    ? kv.listenQueue((msg) => {
      if (stopping) throw new Error("shutting down: left for a retry");
      return track(deliverer.onQueueMessage(msg));
    })
    : Promise.resolve();

  // Without a queue the sweep is the only deliverer: take every entry.
  const minAgeMs = config.signalQueue === "kv" ? SWEEP_MIN_AGE_MS : 0;
  const sweep = async () => {
    if (stop.signal.aborted) return;
    try {
      const report = await track(deliverer.sweep({ minAgeMs }));
      if (report.sent || report.failed) {
        log.info("outbox sweep", { ...report });
      }
    } catch (err) {
      log.error("outbox sweep failed", { error: err });
    }
  };
  if (opts.sweepEveryMs) {
    const timer = setInterval(sweep, opts.sweepEveryMs);
    stop.signal.addEventListener("abort", () => clearInterval(timer));
  }

  const app = createApp(deps);
  const ready = Promise.withResolvers<Deno.NetAddr>();
  // With slow-client limits, Deno.serve listens on loopback behind the
  // relay that enforces them, and learns each request's client from it.
  const limits = config.slowClients;
  let guard: ClientGuard | null = null;
  const server = Deno.serve({
    port: limits ? 0 : config.port,
    hostname: limits ? "127.0.0.1" : config.hostname,
    onListen: (addr) => ready.resolve(addr),
  }, (req, info) => {
    const client = guard?.clientOf(info.remoteAddr.port);
    return app.fetch(
      req,
      client ? { remoteAddr: client, completed: info.completed } : info,
    );
  });
  const served = await ready.promise;
  if (limits) {
    guard = guardConnections(
      { hostname: config.hostname, port: config.port },
      served,
      limits,
      { onClose: (reason) => log.debug("connection closed", { reason }) },
    );
  }
  const addr = guard?.addr ?? served;
  const host = addr.hostname.includes(":")
    ? `[${addr.hostname}]`
    : addr.hostname;
  const url = `http://${host === "0.0.0.0" ? "localhost" : host}:${addr.port}`;

  // Work can start while other work finishes (a batch, the sweep, a
  // request's background step): wait until none is left, not just for the
  // ones seen first.
  const idle = async () => {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  };
  let closing: Promise<void> | null = null;
  return {
    deps,
    url,
    server,
    idle,
    sweep,
    shutdown() {
      closing ??= (async () => {
        stopping = true;
        const drained = (async () => {
          guard?.stopAccepting();
          await server.shutdown();
          await guard?.close();
          stop.abort();
          await idle();
          return true;
        })();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceOver = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), config.shutdownGraceMs);
        });
        const clean = await Promise.race([drained, graceOver]);
        clearTimeout(timer);
        if (!clean) {
          stop.abort();
          log.warn("shutdown: grace period over, abandoning what still runs", {
            graceMs: config.shutdownGraceMs,
            running: inFlight.size,
          });
        }
        deps.passwords.close();
        if (clean) await deps.mailer.close();
        try {
          kv.close();
        } catch {
          // Already closed (a test that cut KV off); nothing left to release.
        }
        if (clean) await listening.catch(() => {});
      })();
      return closing;
    },
  };
}
