// Development without SECRET_KEY: a random 256-bit key made on first start
// and kept in the app's own KV, so links survive a restart and every
// process on the same database (the app, `deno task users`) signs alike.
// In KV rather than a file: it works the same with a file, :memory: or a
// remote KV_PATH, and needs no write access beyond the database's.
import type { Config } from "./config.ts";
import { keys } from "../kv/keys.ts";

/**
 * The key to sign with: SECRET_KEY, else the one kept in KV (made once).
 * `create: false` (the operator scripts) only reads it: a script pointed at
 * a production database without SECRET_KEY must not plant a key of its own
 * and mail links the app cannot verify. Null then: no key to use.
 */
export async function resolveSecretKey(
  kv: Deno.Kv,
  config: Pick<Config, "env" | "secretKey">,
  { create = true } = {},
): Promise<string | null> {
  if (config.secretKey) return config.secretKey;
  // loadConfig refuses production without a key; a bug if we get here.
  if (config.env === "production") throw new Error("SECRET_KEY is required");
  const key = keys.devSecretKey();
  for (;;) {
    const kept = await kv.get<string>(key);
    if (typeof kept.value === "string") return kept.value;
    if (!create) return null;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const made = btoa(String.fromCharCode(...bytes));
    // Two processes starting at once: one wins, the other reads its key.
    const res = await kv.atomic().check(kept)
      .set(key, made).commit();
    if (res.ok) return made;
  }
}
