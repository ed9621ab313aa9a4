// Every endpoint that hashes a password takes its link's (or account's) turn
// first and spends a per-client budget: forty parallel posts of one link
// make one hash, the others get a clear answer at once, nothing half-written.
import assert from "node:assert/strict";
import { checkStore } from "../faults/store_check.ts";
import {
  countPrefix,
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  outboxDrained,
  startTestApp,
  type TestApp,
} from "../helpers.ts";

const NEW_PASSWORD = "the mailbox owner decides";
const PAIR = { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD };

/** Counts the hashes the app asks its (real) hasher for. */
function countHashes(app: TestApp): { n: number } {
  const counter = { n: 0 };
  const hasher = app.deps.passwords;
  const real = hasher.hash;
  hasher.hash = (password) => {
    counter.n++;
    return real(password);
  };
  return counter;
}

/** Counts the password checks the app asks its hasher for. */
function countVerifies(app: TestApp): { n: number } {
  const counter = { n: 0 };
  const hasher = app.deps.passwords;
  const real = hasher.verify;
  hasher.verify = (password, encoded) => {
    counter.n++;
    return real(password, encoded);
  };
  return counter;
}

/** Registered twice while pending: its link asks for a new password. */
async function contestedLink(app: TestApp): Promise<string> {
  await app.browser().register();
  await app.mailer.waitFor(1);
  app.clock.advance(3 * 60_000);
  await app.browser().register({
    password: "someone elses phrase",
    password_confirm: "someone elses phrase",
  });
  const path = await app.activationPath(2);
  await outboxDrained(app);
  return path;
}

async function resetLink(app: TestApp): Promise<string> {
  const before = app.mailer.sent.length;
  await app.browser().post("/password/forgot", { email: "ada@example.com" });
  const mails = await app.mailer.waitFor(before + 1);
  await outboxDrained(app);
  return linkPath(mails[before].text, "/password/reset/");
}

/** 40 browsers post the new password pair to one link at once: one hash. */
async function fortyPostsOneHash(app: TestApp, path: string) {
  const hashes = countHashes(app);
  const results = await Promise.all(
    Array.from({ length: 40 }, () => app.browser().post(path, PAIR)),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(
    hashes.n,
    1,
    `hashes: ${hashes.n}; ${JSON.stringify(tally(statuses))}`,
  );
  return { results, statuses };
}

function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

Deno.test("hash turns: 40 parallel posts of a contested activation link make one hash", async () => {
  await using app = await startTestApp();
  const path = await contestedLink(app);
  const { results, statuses } = await fortyPostsOneHash(app, path);
  const won = results.filter((r) => r.location === "/account");
  assert.equal(won.length, 1);
  // The rest: "busy, try in a moment" while the winner hashed, or "already
  // active" once it was done; never a second hash, never a 500.
  const busy = results.filter((r) => r.status === 409);
  assert.ok(busy.length > 0, JSON.stringify(tally(statuses)));
  for (const r of busy) {
    assert.equal(r.headers.get("retry-after"), "2");
    assert.match(r.body, /Already under way/);
  }
  for (const r of results) {
    assert.ok(
      r.status === 409 || r.location === "/account" ||
        r.location === "/login?activated=1",
      `${r.status} ${r.location}`,
    );
  }
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  assert.equal(await countPrefix(app.kv, ["hash_turns"]), 0);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
  // The winner's password is the account's.
  const login = await app.browser().post("/login", {
    email: "ada@example.com",
    password: NEW_PASSWORD,
  });
  assert.equal(login.location, "/account");
  console.log(
    `40 parallel activations → 1 hash, ${JSON.stringify(tally(statuses))}`,
  );
});

Deno.test("hash turns: 40 parallel posts of a reset link make one hash", async () => {
  await using app = await startTestApp();
  await createActiveAccount(app);
  const path = await resetLink(app);
  const { results, statuses } = await fortyPostsOneHash(app, path);
  assert.equal(
    results.filter((r) => r.location === "/account").length,
    1,
  );
  // Busy while the winner hashed; a used link once it was done.
  for (const r of results) {
    assert.ok(
      r.status === 409 || r.status === 400 || r.status === 303,
      String(r.status),
    );
  }
  assert.ok(statuses.includes(409), JSON.stringify(tally(statuses)));
  assert.equal(await countPrefix(app.kv, ["sessions"]), 1);
  assert.equal(await countPrefix(app.kv, ["hash_turns"]), 0);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
  console.log(
    `40 parallel resets → 1 hash, ${JSON.stringify(tally(statuses))}`,
  );
});

Deno.test("hash turns: the JSON API's activation and reset take the same turns", async () => {
  await using app = await startTestApp();
  const token = (await contestedLink(app)).split("/").at(-1)!;
  const hashes = countHashes(app);
  const activations = await Promise.all(
    Array.from(
      { length: 20 },
      () => app.browser().api("/api/activate", { token, ...PAIR }),
    ),
  );
  assert.equal(hashes.n, 1);
  assert.equal(activations.filter((r) => r.status === 200).length, 1);
  // 409 busy while the winner hashed, 409 already_active once it was done.
  const busy = activations.filter((r) => r.json.error?.code === "busy");
  assert.ok(busy.length > 0);
  assert.equal(busy[0].status, 409);
  assert.equal(busy[0].headers.get("retry-after"), "2");
  for (const r of activations) {
    assert.ok(
      r.status === 200 ||
        ["busy", "already_active"].includes(r.json.error.code),
      r.body,
    );
  }

  const reset = (await resetLink(app)).split("/").at(-1)!;
  hashes.n = 0;
  const resets = await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        app.browser().api("/api/password/reset", {
          token: reset,
          password: "yet another passphrase",
          password_confirm: "yet another passphrase",
        }),
    ),
  );
  assert.equal(hashes.n, 1);
  assert.equal(resets.filter((r) => r.status === 200).length, 1);
  for (const r of resets) assert.ok([200, 400, 409].includes(r.status));
  assert.equal(await countPrefix(app.kv, ["hash_turns"]), 0);
  assert.deepEqual(await checkStore(app.kv, app.clock.now()), []);
});

Deno.test("hash turns: parallel password changes of one account make one hash", async () => {
  await using app = await startTestApp();
  const browser = await createActiveAccount(app);
  const hashes = countHashes(app);
  const results = await Promise.all(
    Array.from({ length: 10 }, () =>
      browser.post("/account/password", {
        current_password: GOOD_PASSWORD,
        ...PAIR,
      })),
  );
  assert.equal(hashes.n, 1);
  assert.equal(
    results.filter((r) => r.location === "/account").length,
    1,
  );
  // The rest: busy, or the current password is no longer current.
  for (const r of results) assert.ok([303, 409, 422].includes(r.status));
  assert.equal(await countPrefix(app.kv, ["hash_turns"]), 0);
});

Deno.test("hash turns: each client has a budget for requests that would hash", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_IP: "2/15m" } });
  const hashes = countHashes(app);
  const bogus = (i: number) => `/password/reset/not-a-token-${i}`;
  assert.equal((await app.browser().post(bogus(1), PAIR)).status, 400);
  assert.equal((await app.browser().post(bogus(2), PAIR)).status, 400);
  const page = await app.browser().post(bogus(3), PAIR);
  assert.equal(page.status, 429);
  assert.ok(Number(page.headers.get("retry-after")) > 0);
  const api = await app.browser().api("/api/password/reset", {
    token: "x.y",
    ...PAIR,
  });
  assert.equal(api.status, 429);
  const activation = await app.browser().post("/activate/x.y", PAIR);
  assert.equal(activation.status, 429);
  assert.equal(hashes.n, 0);
  // Another action's budget is untouched: registration still works.
  assert.equal((await app.browser().register()).status, 303);
});

Deno.test("hash turns: 20 parallel posts of a link with the account's password make one check", async () => {
  await using app = await startTestApp();
  await app.browser().register();
  const path = await app.activationPath(1);
  await outboxDrained(app);
  const verifies = countVerifies(app);
  // Another browser than the one that registered: it proves the password.
  const results = await Promise.all(
    Array.from(
      { length: 20 },
      () => app.browser().post(path, { current_password: GOOD_PASSWORD }),
    ),
  );
  assert.equal(verifies.n, 1);
  assert.equal(results.filter((r) => r.location === "/account").length, 1);
  for (const r of results) {
    assert.ok(
      r.status === 409 || r.location === "/account" ||
        r.location === "/login?activated=1",
      `${r.status} ${r.location}`,
    );
  }
  assert.equal(await countPrefix(app.kv, ["hash_turns"]), 0);
});
