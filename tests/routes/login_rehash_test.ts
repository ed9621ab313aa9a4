// Sign-in upgrades a stored hash made with weaker Argon2id parameters than
// the configured ones (an older PASSWORD_MEMORY_KIB / PASSWORD_ITERATIONS).
import assert from "node:assert/strict";
import { argon2id } from "hash-wasm";
import { keys } from "../../lib/kv/keys.ts";
import { getUserByEmail } from "../../lib/accounts/users.ts";
import {
  createActiveAccount,
  GOOD_PASSWORD,
  startTestApp,
} from "../helpers.ts";

Deno.test("login: a hash weaker than the configured parameters is replaced on sign-in", async () => {
  await using app = await startTestApp({
    env: { PASSWORD_MEMORY_KIB: "19456", PASSWORD_ITERATIONS: "3" },
  });
  const signedIn = await createActiveAccount(app);
  const user = await getUserByEmail(app.kv, "ada@example.com", app.clock.now());
  assert.match(user!.passwordHash, /\$m=19456,t=3,p=1\$/);
  // What an older release (OWASP's m=19456, t=2) stored.
  const old = await argon2id({
    password: GOOD_PASSWORD,
    salt: crypto.getRandomValues(new Uint8Array(16)),
    memorySize: 19_456,
    iterations: 2,
    parallelism: 1,
    hashLength: 32,
    outputType: "encoded",
  });
  await app.kv.set(keys.user(user!.id), { ...user, passwordHash: old });

  const browser = app.browser();
  const res = await browser.post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/account");
  const after = await getUserByEmail(
    app.kv,
    "ada@example.com",
    app.clock.now(),
  );
  assert.match(after!.passwordHash, /\$m=19456,t=3,p=1\$/);
  assert.notEqual(after!.passwordHash, old);
  assert.equal(
    await app.deps.passwords.verify(GOOD_PASSWORD, after!.passwordHash),
    true,
  );
  // Same password, stronger hash: the session made before stays valid.
  assert.equal((await signedIn.get("/account")).status, 200);
  // The new hash signs in as well.
  const again = await app.browser().post("/login", {
    email: "ada@example.com",
    password: GOOD_PASSWORD,
  });
  assert.equal(again.status, 303);
});

Deno.test("login: a wrong password never rewrites the stored hash", async () => {
  await using app = await startTestApp({
    env: { PASSWORD_ITERATIONS: "3" },
  });
  await createActiveAccount(app);
  const user = await getUserByEmail(app.kv, "ada@example.com", app.clock.now());
  const weak = user!.passwordHash.replace(/t=3/, "t=2");
  await app.kv.set(keys.user(user!.id), { ...user, passwordHash: weak });
  const res = await app.browser().post("/login", {
    email: "ada@example.com",
    password: "not the password at all",
  });
  assert.equal(res.status, 400);
  const after = await getUserByEmail(
    app.kv,
    "ada@example.com",
    app.clock.now(),
  );
  assert.equal(after!.passwordHash, weak);
});
