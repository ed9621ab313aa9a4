// Fills a KV file before the server starts, through the app's own code paths
// (lib/accounts/users.ts createPendingUser, lib/security/signing.ts), so the timed part measures
// only what it names: fresh activation tokens, and queued registrations.
import { ACTIVATION_PURPOSE } from "../../lib/accounts/token_purposes.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  DEFAULT_ARGON2_PARAMS,
  wasmArgon2,
} from "../../lib/security/argon2.ts";
import { createSigner } from "../../lib/security/signing.ts";
import { registrantOf, type User } from "../../lib/accounts/users.ts";
import { createPendingUser } from "../../lib/accounts/user_writes.ts";
import { REGISTERED_PURPOSE } from "../../lib/accounts/token_purposes.ts";

const PENDING_TTL_MS = 7 * 86_400_000;
/** Commits in flight while preparing; KV batches them well. */
const CONCURRENCY = 64;

async function createUsers(
  kv: Deno.Kv,
  count: number,
  opts: { tag: string; queue: boolean },
): Promise<User[]> {
  // One real Argon2id hash shared by all: preparing must not take minutes.
  const passwordHash = await wasmArgon2.hash(
    "bench password 0123",
    DEFAULT_ARGON2_PARAMS,
  );
  const users: User[] = new Array(count);
  let next = 0;
  const now = Date.now();
  async function work() {
    while (next < count) {
      const i = next++;
      const res = await createPendingUser(kv, {
        firstName: "Bench",
        email: `${opts.tag}${i}@example.com`,
        passwordHash,
        lang: "en",
      }, { now, pendingTtlMs: PENDING_TTL_MS, queue: opts.queue });
      if (!res.ok) throw new Error(`preparing user ${i}: ${res.reason}`);
      users[i] = res.user;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, work));
  return users;
}

/** Deletes outbox entries so the app's sweep does not wake up mid-bench. */
async function dropOutbox(kv: Deno.Kv): Promise<void> {
  const batch: Deno.KvKey[] = [];
  for await (const { key } of kv.list({ prefix: keys.outbox() })) {
    batch.push(key);
    if (batch.length === 500) await flush();
  }
  await flush();
  async function flush() {
    const atomic = kv.atomic();
    for (const key of batch.splice(0)) atomic.delete(key);
    await atomic.commit();
  }
}

/**
 * Pending users whose activation mail was already sent, and a file with one
 * fresh activation token per user and its registering browser's cookie
 * (signed with the server's key), separated by a space.
 */
export async function prepareActivations(opts: {
  kvPath: string;
  count: number;
  secret: string;
  tokensFile?: string;
}): Promise<string[]> {
  const kv = await Deno.openKv(opts.kvPath);
  try {
    const users = await createUsers(kv, opts.count, {
      tag: `act-${crypto.randomUUID().slice(0, 8)}-`,
      queue: false,
    });
    await dropOutbox(kv);
    if (opts.tokensFile) {
      const signer = await createSigner(opts.secret);
      const now = Date.now();
      // Each token with the "registered" cookie of the browser that
      // registered it: only there does one POST activate (see
      // lib/accounts/users.ts activationNeeds).
      const tokens = await Promise.all(
        users.map(async (u) => {
          const token = await signer.sign(ACTIVATION_PURPOSE, {
            sub: u.id,
            iat: now,
            v: u.tokenVersion,
          });
          const marker = await signer.sign(REGISTERED_PURPOSE, {
            sub: registrantOf(u),
            iat: now,
          });
          return `${token} ${marker}`;
        }),
      );
      await Deno.writeTextFile(opts.tokensFile, tokens.join("\n") + "\n");
    }
    return users.map((u) => u.id);
  } finally {
    kv.close();
  }
}

/** Registrations as POST /register leaves them: queued for delivery. */
export async function prepareQueuedRegistrations(opts: {
  kvPath: string;
  count: number;
}): Promise<void> {
  const kv = await Deno.openKv(opts.kvPath);
  try {
    await createUsers(kv, opts.count, { tag: "mail-", queue: true });
  } finally {
    kv.close();
  }
}
