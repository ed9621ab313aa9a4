import assert from "node:assert/strict";
import { resolveSecretKey } from "../../lib/app/dev_secret.ts";
import { weakSecretReason } from "../../lib/app/secret_strength.ts";
import { createSigner } from "../../lib/security/signing.ts";

const DEV = { env: "development" as const, secretKey: null };

Deno.test("dev secret: made once, random, kept across restarts of the same KV file", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  try {
    let kv = await Deno.openKv(path);
    const first = (await resolveSecretKey(kv, DEV))!;
    assert.equal(atob(first).length, 32, "256 bits");
    assert.equal(weakSecretReason(first), null);
    const now = Date.now();
    const token = await (await createSigner(first)).sign("activate", {
      sub: "u1",
      iat: now,
    });
    kv.close();

    kv = await Deno.openKv(path);
    const again = (await resolveSecretKey(kv, DEV))!;
    assert.equal(again, first, "the same key after a restart");
    const verified = await (await createSigner(again)).verify(
      "activate",
      token,
      { maxAgeMs: 60_000, now },
    );
    assert.ok(verified.ok, "a link from before the restart still verifies");
    kv.close();

    const other = await Deno.openKv(":memory:");
    assert.notEqual(await resolveSecretKey(other, DEV), first, "random");
    other.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dev secret: two processes starting at once agree on one key", async () => {
  await using kv = await Deno.openKv(":memory:");
  const keys = await Promise.all(
    Array.from({ length: 8 }, () => resolveSecretKey(kv, DEV)),
  );
  assert.equal(new Set(keys).size, 1);
});

Deno.test("dev secret: a configured SECRET_KEY wins and nothing is stored", async () => {
  await using kv = await Deno.openKv(":memory:");
  const key = "q7Vf2Lx9RkP0sWm4ZbT8nJc1HyD6gAe3";
  assert.equal(
    await resolveSecretKey(kv, { env: "test", secretKey: key }),
    key,
  );
  for await (const _ of kv.list({ prefix: [] })) assert.fail("wrote to KV");
});

Deno.test("dev secret: production never makes one", async () => {
  await using kv = await Deno.openKv(":memory:");
  await assert.rejects(
    resolveSecretKey(kv, { env: "production", secretKey: null }),
  );
});

Deno.test("dev secret: the operator scripts reuse the app's key and never plant one", async () => {
  await using kv = await Deno.openKv(":memory:");
  assert.equal(await resolveSecretKey(kv, DEV, { create: false }), null);
  for await (const _ of kv.list({ prefix: [] })) assert.fail("wrote to KV");
  const made = await resolveSecretKey(kv, DEV);
  assert.equal(await resolveSecretKey(kv, DEV, { create: false }), made);
});
