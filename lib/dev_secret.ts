// Development without SECRET_KEY: a random 256-bit key made on first start
// and kept in the app's own KV, so links survive a restart and every
// process on the same database (the app, `deno task users`) signs alike.
// In KV rather than a file: it works the same with a file, :memory: or a
// remote KV_PATH, and needs no write access beyond the database's.
import type { Config } from "./config.ts";
import { keys } from "./kv_keys.ts";

/** The key to sign with: SECRET_KEY, else the one kept in KV (made once). */
export async function resolveSecretKey(
  kv: Deno.Kv,
  config: Pick<Config, "env" | "secretKey">,
): Promise<string> {
  if (config.secretKey) return config.secretKey;
  // loadConfig refuses production without a key; a bug if we get here.
  if (config.env === "production") throw new Error("SECRET_KEY is required");
  const key = keys.devSecretKey();
  for (;;) {
    const kept = await kv.get<string>(key);
    if (typeof kept.value === "string") return kept.value;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const made = btoa(String.fromCharCode(...bytes));
    // Two processes starting at once: one wins, the other reads its key.
    const res = await kv.atomic().check(kept)
      .set(key, made).commit();
    if (res.ok) return made;
  }
}
