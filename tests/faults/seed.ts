// Fills a KV store with pending users and their activation signals through
// the same commit registration uses, without paying Argon2id for each.
import { createPasswordHasher } from "../../lib/passwords.ts";
import { createPendingUser } from "../../lib/users.ts";

let hash: Promise<string> | null = null;

export async function seedRegistrations(
  kv: Deno.Kv,
  count: number,
  opts: { queue: boolean; now?: number; prefix?: string },
): Promise<string[]> {
  hash ??= (async () => {
    const hasher = createPasswordHasher({ workers: 0 });
    try {
      return await hasher.hash("correct horse battery");
    } finally {
      hasher.close();
    }
  })();
  const passwordHash = await hash;
  const emails: string[] = [];
  for (let i = 0; i < count; i++) {
    const email = `${opts.prefix ?? "user"}${i}@example.com`;
    const res = await createPendingUser(kv, {
      firstName: `User${i}`,
      email,
      passwordHash,
      lang: "en",
    }, {
      now: opts.now ?? Date.now(),
      pendingTtlMs: 86_400_000,
      queue: opts.queue,
    });
    if (!res.ok) throw new Error(`seeding ${email}: ${res.reason}`);
    emails.push(email);
  }
  return emails;
}
