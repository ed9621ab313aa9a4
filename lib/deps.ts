// What the app is built from. Only main.ts creates these for real; tests build
// their own, so nothing here is a module-level singleton.
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Mailer } from "./mail/types.ts";
import type { PasswordHasher } from "./passwords.ts";
import type { Signer } from "./signing.ts";

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Deps {
  kv: Deno.Kv;
  config: Config;
  mailer: Mailer;
  log: Logger;
  clock: Clock;
  signer: Signer;
  passwords: PasswordHasher;
}

/** What the HTTP app needs on top of Deps: a way to deliver signals now. */
export interface AppDeps extends Deps {
  deliverer: import("./deliver.ts").Deliverer;
}
