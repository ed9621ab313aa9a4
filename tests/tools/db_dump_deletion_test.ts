// After an account is deleted, `deno task db:dump` (tools/db.ts dump, run
// as a subprocess on the KV file a real app wrote) holds no record that
// contains the address: as typed, lower-cased, or as its canonical mailbox.
import { keys } from "../../lib/kv/keys.ts";
import assert from "node:assert/strict";
import { startApp } from "../../lib/app/server.ts";
import { silentLogger } from "../../lib/app/log.ts";
import { createMemoryMailer } from "../../lib/mail/memory.ts";
import { createCheapHasher } from "../model/cheap_hasher.ts";
import {
  countPrefix,
  GOOD_PASSWORD,
  linkPath,
  TestBrowser,
  testConfig,
  waitUntil,
} from "../helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TYPED = "Ada.Lovelace+News@Example.COM";

async function dump(kvPath: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/db.ts", "dump"],
    cwd: ROOT,
    env: { KV_PATH: kvPath, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return text;
}

Deno.test("db:dump after a deletion holds no record naming the address", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  try {
    const config = testConfig({ KV_PATH: kvPath, SIGNAL_QUEUE: "none" });
    const kv = await Deno.openKv(kvPath);
    const mailer = createMemoryMailer({ from: config.mail.from });
    const app = await startApp(config, {
      kv,
      mailer,
      log: silentLogger,
      passwords: await createCheapHasher(),
    });
    try {
      const ada = new TestBrowser(app.url);
      const form = (first_name: string, email: string) => ({
        first_name,
        email,
        password: GOOD_PASSWORD,
        password_confirm: GOOD_PASSWORD,
      });
      await ada.post("/register", form("Ada", TYPED));
      await ada.post(linkPath((await mailer.waitFor(1))[0].text, "/activate/"));
      await new TestBrowser(app.url).post(
        "/register",
        form("Bob", "bob@example.com"),
      );
      // Every kind of record an address leaves: a wrong sign-in from
      // elsewhere, a reset request, a resend, sessions.
      const stranger = new TestBrowser(app.url);
      await stranger.post("/login", {
        email: TYPED,
        password: "a wrong guess",
      });
      await stranger.post("/password/forgot", { email: TYPED });
      await stranger.post("/activate/resend", { email: TYPED });
      await new TestBrowser(app.url).post("/login", {
        email: TYPED,
        password: GOOD_PASSWORD,
      });
      await waitUntil(() => mailer.sent.length >= 3);

      const before = mailer.sent.length;
      const asked = await ada.post("/account/delete", {
        current_password: GOOD_PASSWORD,
      });
      assert.equal(asked.status, 303);
      const path = linkPath(
        (await mailer.waitFor(before + 1))[before].text,
        "/account/delete/",
      );
      assert.equal((await ada.post(path)).status, 303);
      const goodbye = (await mailer.waitFor(before + 2))[before + 1];
      assert.equal(goodbye.to, TYPED.toLowerCase());
      await app.idle();
      await waitUntil(async () => await countPrefix(kv, keys.outbox()) === 0);
    } finally {
      await app.shutdown(); // closes the KV too
    }

    const text = (await dump(kvPath)).toLowerCase();
    // The search works: Bob is there, and so is the store's other data.
    assert.match(text, /bob@example\.com/);
    assert.match(text, /"rate_limits"/);
    for (const form of [TYPED.toLowerCase(), "ada.lovelace@example.com"]) {
      const lines = text.split("\n").filter((line) => line.includes(form));
      assert.deepEqual(lines, [], `records naming ${form}`);
    }
    assert.ok(!text.includes("ada.lovelace"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
