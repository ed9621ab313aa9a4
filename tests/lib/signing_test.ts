import assert from "node:assert/strict";
import {
  createSigner,
  MAX_TOKEN_LENGTH,
  randomToken,
  sha256Hex,
  type TokenPayload,
} from "../../lib/security/signing.ts";

const KEY = "k".repeat(32) + "-current";
const OLD_KEY = "k".repeat(32) + "-old";
const NOW = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const OPTS = { maxAgeMs: DAY, now: NOW };
const PAYLOAD: TokenPayload = {
  sub: "0f3c9a52-6f5e-4b8e-9d3a-0c1b2a3d4e5f",
  iat: NOW,
  v: 3,
  h: "Zk2p9qXw",
};

Deno.test("signing: a signed token verifies and returns its payload", async () => {
  const signer = await createSigner(KEY);
  const token = await signer.sign("activate", PAYLOAD);
  assert.deepEqual(await signer.verify("activate", token, OPTS), {
    ok: true,
    payload: PAYLOAD,
  });
  const minimal = await signer.sign("activate", { sub: "u1", iat: NOW });
  assert.deepEqual(await signer.verify("activate", minimal, OPTS), {
    ok: true,
    payload: { sub: "u1", iat: NOW },
  });
});

Deno.test("signing: tokens are URL-safe and short", async () => {
  const token = await (await createSigner(KEY)).sign("activate", PAYLOAD);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.ok(token.length < 200, `${token.length} chars`);
});

Deno.test("signing: changing any one character makes the token invalid", async () => {
  const signer = await createSigner(KEY);
  const token = await signer.sign("activate", PAYLOAD);
  for (let i = 0; i < token.length; i++) {
    if (token[i] === ".") continue;
    const swapped = token[i] === "A" ? "B" : "A";
    const tampered = token.slice(0, i) + swapped + token.slice(i + 1);
    assert.deepEqual(
      await signer.verify("activate", tampered, OPTS),
      { ok: false, reason: "invalid" },
      `changed index ${i}`,
    );
  }
});

Deno.test("signing: truncated, extended or re-spelled tokens are invalid", async () => {
  const signer = await createSigner(KEY);
  const token = await signer.sign("activate", PAYLOAD);
  const [payloadPart, macPart] = token.split(".");
  const variants = [
    token.slice(0, -1),
    token.slice(1),
    token + "A",
    token + "=",
    token + ".",
    "." + token,
    token + " ",
    ` ${token}`,
    payloadPart,
    `${payloadPart}.`,
    `.${macPart}`,
    `${payloadPart}.${macPart}.${macPart}`,
    `${payloadPart}=.${macPart}`,
    `${payloadPart}.${macPart.slice(0, 22)}`,
    token.replace(".", ".."),
  ];
  for (const variant of variants) {
    assert.deepEqual(
      await signer.verify("activate", variant, OPTS),
      { ok: false, reason: "invalid" },
      variant,
    );
  }
});

Deno.test("signing: an old but authentic token is expired, a forged old one invalid", async () => {
  const signer = await createSigner(KEY);
  const token = await signer.sign("activate", PAYLOAD);
  const atLimit = { maxAgeMs: DAY, now: NOW + DAY };
  assert.equal((await signer.verify("activate", token, atLimit)).ok, true);
  const late = { maxAgeMs: DAY, now: NOW + DAY + 1 };
  assert.deepEqual(await signer.verify("activate", token, late), {
    ok: false,
    reason: "expired",
  });
  const forged = await (await createSigner(OLD_KEY)).sign("activate", PAYLOAD);
  assert.deepEqual(await signer.verify("activate", forged, late), {
    ok: false,
    reason: "invalid",
  });
});

Deno.test("signing: a token made for one purpose is invalid for another", async () => {
  const signer = await createSigner(KEY);
  const token = await signer.sign("activate", PAYLOAD);
  assert.deepEqual(await signer.verify("reset-password", token, OPTS), {
    ok: false,
    reason: "invalid",
  });
});

Deno.test("signing: fallback keys verify, retired keys do not, only the current key signs", async () => {
  const before = await createSigner(OLD_KEY);
  const rotating = await createSigner(KEY, [OLD_KEY]);
  const retired = await createSigner(KEY);
  const oldToken = await before.sign("activate", PAYLOAD);
  assert.equal((await rotating.verify("activate", oldToken, OPTS)).ok, true);
  assert.deepEqual(await retired.verify("activate", oldToken, OPTS), {
    ok: false,
    reason: "invalid",
  });
  const newToken = await rotating.sign("activate", PAYLOAD);
  assert.equal((await retired.verify("activate", newToken, OPTS)).ok, true);
  assert.equal((await before.verify("activate", newToken, OPTS)).ok, false);
});

Deno.test("signing: an iat beyond the clock skew is invalid, a little ahead is fine", async () => {
  const signer = await createSigner(KEY);
  const ahead = await signer.sign("activate", { sub: "u1", iat: NOW + 30_000 });
  assert.equal((await signer.verify("activate", ahead, OPTS)).ok, true);
  const future = await signer.sign("activate", {
    sub: "u1",
    iat: NOW + 61_000,
  });
  assert.deepEqual(await signer.verify("activate", future, OPTS), {
    ok: false,
    reason: "invalid",
  });
});

Deno.test("signing: garbage is invalid and never throws", async () => {
  const signer = await createSigner(KEY);
  const garbage = [
    "",
    ".",
    "..",
    "a.b",
    "a.b.c",
    "%%%.###",
    "é.é",
    "x".repeat(MAX_TOKEN_LENGTH + 1),
    "A".repeat(10_000) + "." + "A".repeat(43),
    "eyJzdWIiOiJ1MSIsImlhdCI6MX0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    null as unknown as string,
  ];
  for (const token of garbage) {
    assert.deepEqual(
      await signer.verify("activate", token, OPTS),
      { ok: false, reason: "invalid" },
      String(token).slice(0, 40),
    );
  }
});

Deno.test("signing: sign refuses a payload that could never verify", async () => {
  const signer = await createSigner(KEY);
  await assert.rejects(signer.sign("activate", { sub: "", iat: NOW }));
  await assert.rejects(signer.sign("activate", { sub: "u1", iat: 1.5 }));
  await assert.rejects(
    signer.sign("activate", { sub: "u1", iat: NOW, h: "x".repeat(500) }),
  );
  await assert.rejects(signer.sign("two\nlines", PAYLOAD));
});

Deno.test("signing: verify without a real max age is a bug, not a pass", async () => {
  const signer = await createSigner(KEY);
  const token = await signer.sign("activate", PAYLOAD);
  await assert.rejects(
    signer.verify("activate", token, { maxAgeMs: NaN, now: NOW }),
  );
  await assert.rejects(createSigner(""));
});

Deno.test("signing: sha256Hex matches the FIPS 180-2 vector", async () => {
  assert.equal(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("signing: randomToken is URL-safe, fresh each time and not too short", () => {
  const a = randomToken();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(randomToken(), a);
  assert.equal(randomToken(48).length, 64);
  assert.throws(() => randomToken(8), RangeError);
});
