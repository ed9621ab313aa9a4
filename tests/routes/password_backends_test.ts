// The hashing backend can change between releases or hosts (the native addon
// on one, the hash-wasm fallback on another, PASSWORD_BACKEND=wasm forced):
// an account made under one must sign in under the other.
import assert from "node:assert/strict";
import {
  type BackendName,
  createPasswordHasher,
  type PasswordHasher,
} from "../../lib/security/passwords.ts";
import { getUserByEmail } from "../../lib/accounts/users.ts";
import {
  createActiveAccount,
  GOOD_PASSWORD,
  startTestApp,
} from "../helpers.ts";

/** Both real hashers; the app hashes and verifies with `use`'s choice. */
async function twoBackends() {
  const by: Record<BackendName, PasswordHasher> = {
    native: await createPasswordHasher({ workers: 1, backend: "native" }),
    wasm: await createPasswordHasher({ workers: 0, backend: "wasm" }),
  };
  let current = by.wasm;
  const hasher: PasswordHasher = {
    get backend() {
      return current.backend;
    },
    hash: (p) => current.hash(p),
    verify: (p, e) => current.verify(p, e),
    verifyDummy: (p) => current.verifyDummy(p),
    needsRehash: (e) => current.needsRehash(e),
    queueLength: () => current.queueLength(),
    close() {
      by.native.close();
      by.wasm.close();
    },
  };
  return {
    hasher,
    use(name: BackendName) {
      current = by[name];
      assert.equal(hasher.backend, name);
    },
  };
}

Deno.test("sign-in: an account hashed by hash-wasm signs in under the native addon, and the other way", async () => {
  const backends = await twoBackends();
  await using app = await startTestApp({ passwords: backends.hasher });
  const signIn = (email: string, password: string) =>
    app.browser().post("/login", { email, password });
  const stored = async (email: string) =>
    (await getUserByEmail(app.kv, email, app.clock.now()))!.passwordHash;

  backends.use("wasm");
  await createActiveAccount(app, { email: "wasm@example.com" });
  backends.use("native");
  await createActiveAccount(app, { email: "native@example.com" });
  const fromWasm = await stored("wasm@example.com");
  const fromNative = await stored("native@example.com");

  for (const backend of ["native", "wasm"] as const) {
    backends.use(backend);
    for (const email of ["wasm@example.com", "native@example.com"]) {
      const res = await signIn(email, GOOD_PASSWORD);
      assert.equal(res.status, 303, `${email} under ${backend}`);
      assert.equal(res.location, "/account");
      assert.equal(
        (await signIn(email, `${GOOD_PASSWORD}!`)).status,
        400,
        `a wrong password for ${email} under ${backend}`,
      );
    }
  }
  // Same parameters, so neither backend's sign-in rewrote the other's hash.
  assert.equal(await stored("wasm@example.com"), fromWasm);
  assert.equal(await stored("native@example.com"), fromNative);
});
