// Fills a KV store with pending users and their activation signals through
// the same commit registration uses, without paying Argon2id for each.
import { createPasswordHasher } from "../../lib/security/passwords.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";

let hash: Promise<string> | null = null;

export async function seedRegistrations(
  kv: Deno.Kv,
  count: number,
  opts: { queue: boolean; now?: number; prefix?: string },
): Promise<string[]> {
  hash ??= (async () => {
    const hasher = await createPasswordHasher({ workers: 0 });
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

/**
 * A KV file in a new temp dir holding `count` queued registrations, and the
 * environment that points an app process at it and at a loopback relay.
 */
export async function seedQueuedKvFile(
  count: number,
  smtpPort: number,
): Promise<{ dir: string; kvPath: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  const kv = await Deno.openKv(kvPath);
  try {
    await seedRegistrations(kv, count, { queue: true });
  } finally {
    kv.close();
  }
  const env = {
    KV_PATH: kvPath,
    MAIL_BACKEND: "smtp",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtpPort),
    // Thousands of seeded mails to one domain: the hourly budgets would
    // (rightly) refuse most of them.
    MAIL_BUDGET_PER_DOMAIN_HOUR: "1000000",
    MAIL_BUDGET_HOUR: "1000000",
  };
  return { dir, kvPath, env };
}
