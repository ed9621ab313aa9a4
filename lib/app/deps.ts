// What the app is built from. Only main.ts creates these for real; tests build
// their own, so nothing here is a module-level singleton.
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Deliverer } from "../outbox/deliverer.ts";
import type { Logger } from "./log.ts";
import type { Mailbox, Mailer } from "../mail/types.ts";
import type { PasswordHasher } from "../security/passwords.ts";
import type { Signer } from "../security/signing.ts";

export interface Deps {
  kv: Deno.Kv;
  config: Config;
  mailer: Mailer;
  log: Logger;
  clock: Clock;
  signer: Signer;
  passwords: PasswordHasher;
}

/** What the HTTP app needs on top of Deps. */
export interface AppDeps extends Deps {
  /** A way to deliver signals now. */
  deliverer: Deliverer;
  /** Every language in locales/, loaded at start-up. */
  i18n: import("../i18n/i18n.ts").I18n;
  /** The mails sent, for /dev/mail; only in development. */
  mailbox?: Mailbox;
  /**
   * Runs `work` after the response has gone; shutdown waits for it, and a
   * failure is logged as `what` failed.
   */
  background(what: string, work: () => Promise<unknown>): void;
}
