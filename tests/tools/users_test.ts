// Runs the real `tools/users.ts` as a subprocess against a KV file that a
// real app wrote to, then looks at what the file holds afterwards.
import assert from "node:assert/strict";
import { startApp } from "../../lib/app/server.ts";
import { createMemoryMailer } from "../../lib/mail/memory.ts";
import { silentLogger } from "../../lib/app/log.ts";
import type { DeadLetter, OutboxEntry } from "../../lib/outbox/signals.ts";
import type { User } from "../../lib/accounts/users.ts";
import {
  countPrefix,
  GOOD_PASSWORD,
  linkPath,
  TEST_ORIGIN,
  TEST_SECRET,
  TestBrowser,
  testConfig,
} from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function users(kvPath: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/users.ts", ...args],
    cwd: ROOT,
    env: {
      APP_ENV: "test",
      KV_PATH: kvPath,
      SECRET_KEY: TEST_SECRET,
      APP_ORIGIN: TEST_ORIGIN,
      MAIL_BACKEND: "console",
      LOG_LEVEL: "warn",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** ada (active, signed in twice), bob (pending), in a KV file. */
async function seed(kvPath: string) {
  const config = testConfig({ KV_PATH: kvPath, SIGNAL_QUEUE: "none" });
  const kv = await Deno.openKv(kvPath);
  const mailer = createMemoryMailer({ from: config.mail.from });
  const app = await startApp(config, {
    kv,
    mailer,
    log: silentLogger,
  });
  try {
    const b = new TestBrowser(app.url);
    const form = (first_name: string, email: string) => ({
      first_name,
      email,
      password: GOOD_PASSWORD,
      password_confirm: GOOD_PASSWORD,
    });
    await b.post("/register", form("Ada", "ada@example.com"));
    const [mail] = await mailer.waitFor(1);
    await b.post(linkPath(mail.text, "/activate/"));
    await new TestBrowser(app.url).post("/login", {
      email: "ada@example.com",
      password: GOOD_PASSWORD,
    });
    await b.post("/register", form("Bob", "bob@example.com"));
    await mailer.waitFor(2);
  } finally {
    await app.shutdown();
  }
}

async function withKv<T>(path: string, fn: (kv: Deno.Kv) => Promise<T>) {
  const kv = await Deno.openKv(path);
  try {
    return await fn(kv);
  } finally {
    kv.close();
  }
}

async function user(kv: Deno.Kv, email: string) {
  const id = (await kv.get<string>(keys.userByEmail(email))).value;
  return id ? (await kv.get<User>(keys.user(id))).value : null;
}

Deno.test("users: list, show, resend, activate, deactivate, delete, outbox", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  try {
    await seed(kvPath);

    const all = await users(kvPath, "list");
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^active\s+ada@example\.com\s+Ada/m);
    assert.match(all.stdout, /^pending\s+bob@example\.com\s+Bob/m);
    assert.match(all.stdout, /2 account\(s\)/);
    const pending = await users(kvPath, "list", "pending");
    assert.doesNotMatch(pending.stdout, /ada@/);
    assert.match(pending.stdout, /1 account\(s\)/);

    const show = await users(kvPath, "show", "ADA@example.com");
    assert.equal(show.code, 0);
    assert.match(show.stdout, /state\s+active/);
    assert.match(show.stdout, /sessions\s+2/);
    assert.match(show.stdout, /registered\s+once/);
    assert.doesNotMatch(show.stdout, /argon2/);

    const resend = await users(kvPath, "resend", "bob@example.com");
    assert.equal(resend.code, 0, resend.stderr);
    assert.match(resend.stdout, /To: bob@example\.com/);
    assert.match(resend.stdout, /http:\/\/app\.test\/activate\/\S+/);
    assert.match(resend.stdout, /resend bob@example\.com: sent/);
    assert.equal((await users(kvPath, "resend", "ada@example.com")).code, 1);

    const activate = await users(kvPath, "activate", "bob@example.com");
    assert.equal(activate.code, 0);
    await withKv(kvPath, async (kv) => {
      const bob = (await user(kv, "bob@example.com"))!;
      assert.equal(bob.isActivated && bob.isActive, true);
      assert.equal(bob.pendingUntil, null);
      assert.equal(bob.tokenVersion, 1, "the resend retired the first link");
    });

    const deactivate = await users(kvPath, "deactivate", "ada@example.com");
    assert.equal(deactivate.code, 0);
    assert.match(deactivate.stdout, /2 session\(s\) ended/);
    await withKv(kvPath, async (kv) => {
      assert.equal((await user(kv, "ada@example.com"))!.isActive, false);
      assert.equal(await countPrefix(kv, ["sessions"]), 0);
      // Something for delete to clean up: a queued mail for ada.
      const id = (await user(kv, "ada@example.com"))!.id;
      await kv.set(
        keys.outboxEntry("x1"),
        {
          id: "x1",
          signal: { type: "password_reset_requested", userId: id },
          createdAt: 0,
          attempts: 3,
          lastError: "connection refused",
          lastAttemptAt: 0,
          leaseUntil: 0,
          nextAttemptAt: 0,
        } satisfies OutboxEntry,
      );
      await kv.set(
        keys.deadLetter("x2"),
        {
          id: "x2",
          signal: { type: "password_reset_requested", userId: id },
          createdAt: 0,
          attempts: 10,
          lastError: "550 no such user",
          lastAttemptAt: 0,
          leaseUntil: 0,
          nextAttemptAt: 0,
          deadAt: 0,
        } satisfies DeadLetter,
      );
    });

    const outbox = await users(kvPath, "outbox");
    assert.match(
      outbox.stdout,
      /x1\s+password_reset_requested\s+ada@example\.com\s+attempts=3.*error=connection refused/,
    );

    const del = await users(kvPath, "delete", "ada@example.com");
    assert.equal(del.code, 0);
    // The queued mail and the dead letter went in the same one commit as
    // the user; the goodbye went out from the tool itself.
    assert.match(
      del.stdout,
      /deleted: ada@example\.com \(\d+ record\(s\) in 1 commit\(s\), goodbye mail queued\)/,
    );
    assert.match(del.stdout, /goodbye mail: sent/);
    await withKv(kvPath, async (kv) => {
      assert.equal(await user(kv, "ada@example.com"), null);
      assert.equal(
        (await kv.get(keys.userByEmail("ada@example.com"))).value,
        null,
      );
      assert.equal(await countPrefix(kv, keys.outbox()), 0);
      assert.equal(await countPrefix(kv, keys.deadLetters()), 0);
      assert.equal(await countPrefix(kv, keys.users()), 1);
    });
    const gone = await users(kvPath, "show", "ada@example.com");
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no such account/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("users: retry-outbox delivers what is queued; bad input gets usage", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  try {
    await seed(kvPath);
    await withKv(kvPath, async (kv) => {
      const id = (await user(kv, "bob@example.com"))!.id;
      await kv.set(
        keys.outboxEntry("r1"),
        {
          id: "r1",
          signal: { type: "activation_requested", userId: id },
          createdAt: 0,
          attempts: 1,
          lastError: "timeout",
          lastAttemptAt: 0,
          leaseUntil: 0,
          nextAttemptAt: Date.now() + 3_600_000,
        } satisfies OutboxEntry,
      );
    });
    const retry = await users(kvPath, "retry-outbox");
    assert.equal(retry.code, 0, retry.stderr);
    assert.match(retry.stdout, /To: bob@example\.com/);
    assert.match(retry.stdout, /sent=1 failed=0/);
    await withKv(kvPath, async (kv) => {
      assert.equal(await countPrefix(kv, keys.outbox()), 0);
    });

    // A mail that failed for good: listed, and revived by its id.
    await withKv(kvPath, async (kv) => {
      const id = (await user(kv, "bob@example.com"))!.id;
      const dead = (n: string): DeadLetter => ({
        id: n,
        signal: { type: "activation_requested", userId: id },
        createdAt: 0,
        attempts: 10,
        lastError: "550 mailbox unavailable",
        lastAttemptAt: 0,
        leaseUntil: 0,
        nextAttemptAt: 0,
        deadAt: Date.parse("2026-01-02T03:04:05Z"),
      });
      await kv.set(keys.deadLetter("d1"), dead("d1"));
      await kv.set(keys.deadLetter("d2"), dead("d2"));
    });
    const listed = await users(kvPath, "outbox");
    assert.match(
      listed.stdout,
      /d1\s+activation_requested\s+bob@example\.com\s+attempts=10\s+FAILED=2026-01-02T03:04:05\.000Z\s+error=550 mailbox unavailable/,
    );
    assert.match(listed.stdout, /0 queued, 2 failed for good/);
    const one = await users(kvPath, "retry-outbox", "d1");
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /sent=1 failed=0 dead=0/);
    await withKv(kvPath, async (kv) => {
      assert.equal(await countPrefix(kv, keys.outbox()), 0);
      assert.deepEqual(
        (await Array.fromAsync(kv.list({ prefix: keys.deadLetters() })))
          .map((e) => e.key[1]),
        ["d2"],
      );
    });
    const missing = await users(kvPath, "retry-outbox", "nope");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no outbox entry nope/);

    const unknown = await users(kvPath, "frobnicate");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"[\s\S]*usage:/);
    const noEmail = await users(kvPath, "show");
    assert.equal(noEmail.code, 2);
    assert.match(noEmail.stderr, /give an email address/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("users: activating a contested address warns the operator", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  try {
    const config = testConfig({ KV_PATH: kvPath, SIGNAL_QUEUE: "none" });
    const app = await startApp(config, {
      kv: await Deno.openKv(kvPath),
      mailer: createMemoryMailer({ from: config.mail.from }),
      log: silentLogger,
    });
    try {
      for (const password of [GOOD_PASSWORD, "somebody else's phrase"]) {
        await new TestBrowser(app.url).post("/register", {
          first_name: "Cy",
          email: "cy@example.com",
          password,
          password_confirm: password,
        });
      }
    } finally {
      await app.shutdown();
    }
    const show = await users(kvPath, "show", "cy@example.com");
    assert.match(show.stdout, /registered\s+more than once \(contested\)/);
    const activate = await users(kvPath, "activate", "cy@example.com");
    assert.equal(activate.code, 0, activate.stderr);
    assert.match(activate.stderr, /registered more than once/);
    assert.match(activate.stderr, /reset/);
    await withKv(kvPath, async (kv) => {
      const cy = (await user(kv, "cy@example.com"))!;
      assert.equal(cy.isActivated, true);
      assert.equal(cy.contested, undefined);
      assert.equal(cy.registrant, undefined);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
