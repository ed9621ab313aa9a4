// What the app is built from, and the one place that builds it
// (createDeps): the server and the operator's tool both call it, tests pass
// their own parts as overrides. Nothing here is a module-level singleton.
// Lower layers import this file's types only.
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Deliverer } from "../outbox/deliverer.ts";
import type { Logger } from "./log.ts";
import { createMailer } from "../mail/index.ts";
import type { Mailbox, Mailer } from "../mail/types.ts";
import {
  createPasswordHasher,
  type PasswordHasher,
} from "../security/passwords.ts";
import { createSigner, type Signer } from "../security/signing.ts";

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

/**
 * The core dependencies for `config`: a mailer for the configured backend,
 * the signer with the key and its fallbacks, the Argon2id hasher. `kv`,
 * `log` and the secret key come from the caller (opening KV and finding a
 * development key differ between the server and the tool); anything in
 * `overrides` is used as given.
 */
export async function createDeps(
  config: Config,
  {
    kv,
    log,
    secretKey,
    passwordWorkers = config.passwordWorkers,
    ...overrides
  }:
    & {
      kv: Deno.Kv;
      log: Logger;
      secretKey: string;
      passwordWorkers?: number | null;
    }
    & Partial<Pick<Deps, "mailer" | "clock" | "passwords">>,
): Promise<Deps> {
  return {
    kv,
    config,
    log,
    clock: overrides.clock ?? systemClock,
    mailer: overrides.mailer ??
      createMailer(config.mail, log, `cloud-user/${config.version}`),
    signer: await createSigner(secretKey, config.secretKeyFallbacks),
    passwords: overrides.passwords ?? await createPasswordHasher({
      workers: passwordWorkers,
      backend: config.passwordBackend,
      queueLimit: config.passwordQueueLimit,
      params: config.passwordParams,
      log,
    }),
  };
}
