// Activation links an attacker can forge from a real one: every single-bit
// change, truncation, extension, another purpose's token, an old key's token,
// a deleted user's token. All get the same "incomplete link" page, never a 500.
import assert from "node:assert/strict";
import { ACTIVATION_PURPOSE } from "../../lib/accounts/token_purposes.ts";
import { loadConfig } from "../../lib/app/config.ts";
import { silentLogger } from "../../lib/app/log.ts";
import { createMemoryMailer } from "../../lib/mail/memory.ts";
import { startApp } from "../../lib/app/server.ts";
import { createSigner } from "../../lib/security/signing.ts";
import type { User } from "../../lib/accounts/users.ts";
import {
  linkPath,
  startTestApp,
  TEST_SECRET,
  TestBrowser,
  TestClock,
  testConfig,
} from "../helpers.ts";
import { keys } from "../../lib/kv/keys.ts";

const OLD_KEY = "an-old-retired-key-that-is-long-enough-0000";

function variantsOf(token: string): Map<string, string> {
  const out = new Map<string, string>();
  const [payload, mac] = token.split(".");
  const parts = [payload, mac].map((p) =>
    Uint8Array.fromBase64(p, { alphabet: "base64url" })
  );
  for (const [which, bytes] of parts.entries()) {
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const copy = bytes.slice();
      copy[bit >> 3] ^= 1 << (bit & 7);
      const encoded = copy.toBase64({
        alphabet: "base64url",
        omitPadding: true,
      });
      const forged = which === 0
        ? `${encoded}.${mac}`
        : `${payload}.${encoded}`;
      out.set(`bit ${bit} of ${which ? "mac" : "payload"}`, forged);
    }
  }
  for (let n = 1; n < token.length; n++) {
    out.set(`first ${n} chars`, token.slice(0, n));
  }
  for (const extra of ["A", "a", "_", "-", ".", "=", "%3D", "..x", "%00"]) {
    out.set(`+${extra}`, token + extra);
  }
  out.set("padded", `${payload}=.${mac}`);
  out.set("swapped", `${mac}.${payload}`);
  return out;
}

/**
 * The page with the one thing that may differ taken out: the language
 * switcher returns the person to the URL they asked for, token and all.
 */
function samePage(body: string): string {
  return body.replace(/name="next" value="[^"]*"/, 'name="next" value="…"');
}

Deno.test("tokens: every bit flip, truncation and extension of a link gets the same page", async () => {
  await using app = await startTestApp();
  const owner = app.browser();
  await owner.register();
  const token = (await app.activationPath()).slice("/activate/".length);
  const reference = await app.browser().get("/activate/not-a-token");
  assert.equal(reference.status, 400);
  assert.match(reference.body, /This activation link is incomplete/);

  const variants = variantsOf(token);
  let checked = 0;
  const browser = app.browser();
  for (const [name, forged] of variants) {
    for (const method of ["GET", "POST"]) {
      const res = await browser.request(method, `/activate/${forged}`);
      assert.equal(res.status, 400, `${method} ${name}`);
      assert.equal(
        samePage(res.body),
        samePage(reference.body),
        `${method} ${name}`,
      );
      checked++;
    }
  }
  const id = (await app.kv.get<string>(keys.userByEmail("ada@example.com")))
    .value!;
  assert.equal(
    (await app.kv.get<User>(keys.user(id))).value!.isActivated,
    false,
  );
  assert.equal(browser.cookies.size, 0);
  // The real token still works: the forgeries were rejected, not the user.
  assert.equal(
    (await owner.post(`/activate/${token}`)).location,
    "/account",
  );
  console.log(
    `${variants.size} forged links × GET/POST → ${checked} rejections, same page, 0 activations`,
  );
});

Deno.test("tokens: another purpose's token, an old key's token and a deleted user's token are rejected", async () => {
  await using app = await startTestApp();
  const browser = app.browser();
  await browser.register();
  const token = (await app.activationPath()).slice("/activate/".length);
  const registered = browser.cookies.get("registered")!;
  const id = (await app.kv.get<string>(keys.userByEmail("ada@example.com")))
    .value!;
  const now = app.clock.now();
  const current = await createSigner(TEST_SECRET);
  const old = await createSigner(OLD_KEY);
  const forged: Record<string, string> = {
    "registered cookie": registered,
    "same claims, other purpose": await current.sign("registered_browser", {
      sub: id,
      iat: now,
    }),
    "password reset purpose": await current.sign("password_reset", {
      sub: id,
      iat: now,
      v: 0,
    }),
    "retired key": await old.sign(ACTIVATION_PURPOSE, {
      sub: id,
      iat: now,
      v: 0,
    }),
    "older token version": await current.sign(ACTIVATION_PURPOSE, {
      sub: id,
      iat: now,
      v: 1,
    }),
    "unknown user": await current.sign(ACTIVATION_PURPOSE, {
      sub: "019a0000-0000-7000-8000-000000000000",
      iat: now,
      v: 0,
    }),
    "issued in the future": await current.sign(ACTIVATION_PURPOSE, {
      sub: id,
      iat: now + 3_600_000,
      v: 0,
    }),
  };
  const reference = await app.browser().get("/activate/x");
  for (const [name, t] of Object.entries(forged)) {
    for (const method of ["GET", "POST"]) {
      const res = await app.browser().request(method, `/activate/${t}`);
      assert.equal(res.status, 400, `${method} ${name}`);
      assert.equal(
        samePage(res.body),
        samePage(reference.body),
        `${method} ${name}`,
      );
    }
  }
  // Finally delete the user: the genuine link now gets the same page.
  await app.kv.atomic().delete(keys.user(id))
    .delete(keys.userByEmail("ada@example.com")).commit();
  for (const method of ["GET", "POST"]) {
    const res = await app.browser().request(method, `/activate/${token}`);
    assert.equal(res.status, 400);
    assert.equal(
      samePage(res.body),
      samePage(reference.body),
      `${method} deleted user`,
    );
  }
  console.log(
    `${
      Object.keys(forged).length + 1
    } foreign tokens → all rejected with the same page`,
  );
});

Deno.test("tokens: rotating SECRET_KEY with the old one as fallback keeps links and sessions", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  const clock = new TestClock();
  const start = async (env: Record<string, string>) => {
    const mailer = createMemoryMailer({ from: "x <x@app.test>" });
    const app = await startApp(testConfig({ KV_PATH: kvPath, ...env }), {
      kv: await Deno.openKv(kvPath),
      mailer,
      clock,
      log: silentLogger,
    });
    return { app, mailer, browser: () => new TestBrowser(app.url) };
  };
  try {
    // Before the rotation: Ada is signed in, Bob has a pending link.
    const before = await start({ SECRET_KEY: OLD_KEY });
    const ada = before.browser();
    await ada.register();
    const adaLink = linkPath(
      (await before.mailer.waitFor(1))[0].text,
      "/activate/",
    );
    await ada.post(adaLink);
    await before.browser().register({ email: "bob@example.com" });
    const bobLink = linkPath(
      (await before.mailer.waitFor(2))[1].text,
      "/activate/",
    );
    await before.app.shutdown();

    // New key, old one as fallback: both survive.
    const rotated = await start({
      SECRET_KEY: TEST_SECRET,
      SECRET_KEY_FALLBACKS: OLD_KEY,
    });
    const adaAgain = rotated.browser();
    adaAgain.cookies = ada.cookies;
    assert.equal((await adaAgain.get("/account")).status, 200);
    assert.equal((await rotated.browser().get(bobLink)).status, 200);
    await rotated.app.shutdown();

    // Fallback dropped: the old link dies, the session (not signed) lives on.
    const retired = await start({ SECRET_KEY: TEST_SECRET });
    const adaLater = retired.browser();
    adaLater.cookies = ada.cookies;
    assert.equal((await adaLater.get("/account")).status, 200);
    const dead = await retired.browser().post(bobLink);
    assert.equal(dead.status, 400);
    assert.match(dead.body, /This activation link is incomplete/);
    await retired.app.shutdown();
    console.log(
      "key rotation → session kept across 2 keys, pending link valid with fallback, rejected after",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokens: a fallback key shorter than 32 characters stops the start", () => {
  const res = loadConfig({
    SECRET_KEY: TEST_SECRET,
    SECRET_KEY_FALLBACKS: "short",
  });
  assert.equal(res.ok, false);
});
