// eraseAccount on a real (in-memory) KV: every record naming the person,
// in as few commits as KV allows, the goodbye in the last one.
import assert from "node:assert/strict";
import { eraseAccount } from "../../lib/accounts/deletion.ts";
import { exportPersonalData } from "../../lib/accounts/export.ts";
import {
  activateUser,
  createPendingUser,
} from "../../lib/accounts/user_writes.ts";
import { keys } from "../../lib/kv/keys.ts";
import { expiryTimes } from "../../lib/kv/expiry.ts";
import {
  GOODBYE_DEAD_LETTER_TTL_MS,
  type OutboxEntry,
} from "../../lib/outbox/signals.ts";
import { hitCooldown, hitRateLimit } from "../../lib/security/rate_limit.ts";

const NOW = 1_800_000_000_000;
const HASH = "$argon2id$v=19$m=16,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

async function withKv(fn: (kv: Deno.Kv) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

async function newUser(kv: Deno.Kv, email: string, activate = true) {
  const made = await createPendingUser(kv, {
    firstName: "Ada",
    email,
    passwordHash: HASH,
    lang: "en",
  }, { now: NOW, pendingTtlMs: 86_400_000, queue: false });
  assert.ok(made.ok);
  if (activate) {
    const res = await activateUser(kv, made.user.id, {
      now: NOW,
      sessionTtlMs: 86_400_000,
      proof: { verifiedHash: HASH },
    });
    assert.ok(res.ok);
  }
  return made.user;
}

async function storeText(kv: Deno.Kv) {
  const out = [];
  for await (const e of kv.list({ prefix: [] })) {
    out.push(
      JSON.stringify(
        [e.key, e.value],
        (_k, v) => typeof v === "bigint" ? String(v) : v,
      ),
    );
  }
  return out.join("\n").toLowerCase();
}

Deno.test("erase: every record naming the person goes in one commit, with the goodbye", async () => {
  await withKv(async (kv) => {
    const ada = await newUser(kv, "ada+news@example.com");
    const bob = await newUser(kv, "bob@example.com");
    const limit = { limit: 10, windowMs: 60_000 };
    await hitRateLimit(kv, "forgot:email", "ada@example.com", limit, NOW);
    await hitRateLimit(
      kv,
      "login:email+ip",
      "ada+news@example.com 192.0.2.1",
      limit,
      NOW,
    );
    await hitRateLimit(kv, "forgot:email", "bob@example.com", limit, NOW);
    await hitRateLimit(kv, "register:ip", "192.0.2.1", limit, NOW);
    await hitCooldown(kv, "forgot", "ada@example.com", 60_000, NOW);
    await kv.set(keys.loginAttempts("ada+news@example.com", "192.0.2.1"), {
      count: 1,
      lastAt: NOW,
    });
    await kv.set(keys.loginFailure("ada+news@example.com", "192.0.2.1"), NOW);
    await kv.set(keys.hashTurn(`account:${ada.id}`), { until: NOW });

    const res = await eraseAccount(kv, ada.id, { now: NOW, queue: false });
    assert.ok(res.ok);
    assert.equal(res.commits, 1);
    assert.ok(res.outboxId);
    // The goodbye is the one record left naming her, until it is sent.
    const left = (await storeText(kv)).split("\n")
      .filter((line) => /ada(\+news)?@example\.com/.test(line));
    assert.equal(left.length, 1, left.join("\n"));
    assert.match(left[0], /"account_deleted"/);
    assert.match(left[0], new RegExp(res.outboxId));
    // Bob and the per-IP counter are untouched.
    const text = await storeText(kv);
    assert.match(text, /bob@example\.com/);
    assert.match(text, /register:ip/);
    assert.equal((await kv.get(keys.user(bob.id))).value !== null, true);
    assert.equal(
      (await kv.get(keys.userByEmail("bob@example.com"))).value,
      bob.id,
    );
  });
});

Deno.test("erase: a pending registration gets no goodbye; a missing one is not_found", async () => {
  await withKv(async (kv) => {
    const ada = await newUser(kv, "ada@example.com", false);
    const res = await eraseAccount(kv, ada.id, { now: NOW, queue: false });
    assert.ok(res.ok);
    assert.equal(res.outboxId, null);
    assert.equal(
      await storeText(kv).then((t) => /ada@example\.com/.test(t)),
      false,
    );
    assert.deepEqual(
      await eraseAccount(kv, ada.id, { now: NOW, queue: false }),
      { ok: false, reason: "not_found" },
    );
  });
});

Deno.test("erase: refused when the account no longer matches; nothing deleted", async () => {
  await withKv(async (kv) => {
    const ada = await newUser(kv, "ada@example.com");
    const res = await eraseAccount(kv, ada.id, {
      now: NOW,
      queue: false,
      allow: () => false,
    });
    assert.deepEqual(res, { ok: false, reason: "refused" });
    assert.ok((await kv.get(keys.user(ada.id))).value);
    assert.ok((await kv.get(keys.userByEmail(ada.email))).value);
  });
});

Deno.test("erase: more records than one commit holds go in commits before the last", async () => {
  await withKv(async (kv) => {
    const ada = await newUser(kv, "ada@example.com");
    for (let i = 0; i < 2000; i += 500) {
      const atomic = kv.atomic();
      for (let j = i; j < i + 500; j++) {
        atomic.set(keys.rateLimit("forgot:email", "ada@example.com", j), 1);
      }
      await atomic.commit();
    }
    const res = await eraseAccount(kv, ada.id, { now: NOW, queue: false });
    assert.ok(res.ok);
    // 2,000 deletes of ~60-byte keys: three commits of up to 900 mutations.
    assert.equal(res.commits, 3);
    assert.ok(res.records > 2000);
    const left = (await storeText(kv)).split("\n")
      .filter((line) => /ada(\+news)?@example\.com/.test(line));
    assert.equal(left.length, 1, "only the goodbye");
  });
});

Deno.test("erase: the export lists what the deletion removes, never the hash", async () => {
  await withKv(async (kv) => {
    const ada = await newUser(kv, "ada@example.com");
    await hitCooldown(kv, "forgot", "ada@example.com", 60_000, NOW);
    const data = await exportPersonalData(kv, ada, NOW);
    assert.equal(data.records.users?.length, 1);
    assert.equal(data.records.sessions?.length, 1);
    assert.equal(data.records.cooldowns?.length, 1);
    assert.doesNotMatch(JSON.stringify(data), /argon2|passwordHash/);
  });
});

Deno.test("erase: a goodbye's dead letter expires after 7 days on restore; others stay", () => {
  const goodbye: OutboxEntry = {
    id: "g",
    signal: {
      type: "account_deleted",
      email: "ada@example.com",
      firstName: "Ada",
      lang: "en",
    },
    createdAt: NOW,
    attempts: 10,
    lastError: "down",
    lastAttemptAt: NOW,
    leaseUntil: 0,
    nextAttemptAt: NOW,
  };
  const other = {
    ...goodbye,
    signal: { type: "user_registered", userId: "u" },
  };
  assert.deepEqual(
    expiryTimes([
      {
        key: keys.deadLetter("g"),
        value: {
          ...goodbye,
          deadAt: NOW,
          expiresAt: NOW + GOODBYE_DEAD_LETTER_TTL_MS,
        },
      },
      { key: keys.deadLetter("o"), value: { ...other, deadAt: NOW } },
    ], { rateWindowMs: 60_000 }),
    [NOW + GOODBYE_DEAD_LETTER_TTL_MS, null],
  );
});
