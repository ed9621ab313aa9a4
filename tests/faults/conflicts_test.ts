// KV write conflicts on real KV: a competing writer touches the very keys a
// commit checks, every time. The person gets "try again" (503), never a 500,
// and the store holds the registration whole or not at all.
import assert from "node:assert/strict";
import type { User } from "../../lib/accounts/users.ts";
import { countPrefix } from "../helpers.ts";
import { startFaultApp, withCompetingWriter } from "./fault_app.ts";
import { checkStore } from "./store_check.ts";
import { keys } from "../../lib/kv/keys.ts";

const EMAIL = "ada@example.com";

Deno.test("conflicts: a registration that keeps losing its commit asks to retry and stores nothing", async () => {
  const raw = await Deno.openKv(":memory:");
  let competing = true;
  let conflicts = 0;
  // Another registration of the same address, already stale, rewritten just
  // before each of ours commits: our index check fails every time.
  const stale: User = {
    id: "019a0000-0000-7000-8000-00000000beef",
    firstName: "Stale",
    email: EMAIL,
    passwordHash:
      "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
    lang: "en",
    isActivated: false,
    isActive: false,
    createdAt: 0,
    activatedAt: null,
    pendingUntil: 1,
    tokenVersion: 0,
  };
  const kv = withCompetingWriter(raw, async () => {
    if (!competing) return;
    conflicts++;
    await raw.atomic().set(keys.user(stale.id), stale)
      .set(keys.userByEmail(EMAIL), stale.id).commit();
  });
  await using app = await startFaultApp({ kv });
  const res = await app.browser().register();
  assert.equal(res.status, 503);
  assert.match(res.body, /We could not save your registration just now/);
  assert.match(
    res.body,
    /value="ada@example.com"/,
    "the form keeps its values",
  );
  // Nothing of ours was written: only the competitor's record and index.
  assert.equal(await countPrefix(raw, keys.users()), 1);
  assert.equal(
    (await raw.get<User>(keys.user(stale.id))).value?.firstName,
    "Stale",
  );
  assert.equal(await countPrefix(raw, keys.outbox()), 0);
  assert.deepEqual(await checkStore(raw, app.clock.now()), []);
  assert.ok(!app.logLines.some((l) => / ERROR /.test(l)));

  // Once the competitor stops, the same person succeeds.
  const tries = conflicts;
  competing = false;
  const retry = await app.browser().register();
  assert.equal(retry.status, 303);
  const id = (await raw.get<string>(keys.userByEmail(EMAIL))).value!;
  assert.equal((await raw.get<User>(keys.user(id))).value?.firstName, "Ada");
  assert.equal(
    await countPrefix(raw, keys.users()),
    1,
    "the stale one is replaced",
  );
  assert.deepEqual(await checkStore(raw, app.clock.now()), []);
  console.log(
    `registration losing ${tries} commits in a row → 503 "try again", 0 records; retry → stored whole`,
  );
});

Deno.test("conflicts: an activation that keeps losing its commit asks to retry and changes nothing", async () => {
  const raw = await Deno.openKv(":memory:");
  let competing = false;
  let conflicts = 0;
  let userId = "";
  const kv = withCompetingWriter(raw, async () => {
    if (!competing) return;
    conflicts++;
    // Rewriting the record unchanged still gives it a new versionstamp.
    const entry = await raw.get<User>(keys.user(userId));
    await raw.set(keys.user(userId), entry.value!);
  });
  await using app = await startFaultApp({ kv });
  const browser = app.browser();
  await browser.register();
  userId = (await raw.get<string>(keys.userByEmail(EMAIL))).value!;
  const mailer = app.deps.mailer as unknown as {
    waitFor(n: number): Promise<{ text: string }[]>;
  };
  const [mail] = await mailer.waitFor(1);
  const path =
    new URL(/http:\/\/app\.test\/activate\/\S+/.exec(mail.text)![0]).pathname;

  competing = true;
  const res = await browser.post(path);
  assert.equal(res.status, 503);
  assert.match(res.body, /We could not activate the account just now/);
  assert.equal(browser.cookies.has("session"), false);
  assert.equal(await countPrefix(raw, ["sessions"]), 0);
  assert.equal(
    (await raw.get<User>(keys.user(userId))).value?.isActivated,
    false,
  );
  assert.ok(!app.logLines.some((l) => / ERROR /.test(l)));

  const tries = conflicts;
  competing = false;
  const again = await browser.post(path);
  assert.equal(again.status, 303);
  assert.equal(again.location, "/account");
  assert.equal(await countPrefix(raw, ["sessions"]), 1);
  assert.deepEqual(await checkStore(raw, app.clock.now()), []);
  console.log(
    `activation losing ${tries} commits in a row → 503 "try again", no session; retry → activated`,
  );
});
