// Login for an unknown email must cost what a wrong password costs (a dummy
// Argon2id verify), or response times would list who has an account.
import assert from "node:assert/strict";
import { startTestApp, type TestBrowser } from "../helpers.ts";

const PAIRS_PER_ROUND = 15;
const MAX_ROUNDS = 4;
const TOLERANCE = 0.2;

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function timeLogin(browser: TestBrowser, email: string) {
  const started = performance.now();
  const res = await browser.post("/login", {
    email,
    password: "not the right password",
  });
  const ms = performance.now() - started;
  assert.equal(res.status, 400);
  return ms;
}

Deno.test("timing: unknown email and wrong password take the same time (medians within 20%)", async () => {
  // One hashing thread, so the two kinds queue for the same resource.
  await using app = await startTestApp({
    // Timing, not the progressive slow-down of failed sign-ins, is measured.
    env: { PASSWORD_WORKERS: "1", LOGIN_FREE_FAILURES: "100" },
  });
  const owner = app.browser();
  await owner.register();
  await owner.post(await app.activationPath());
  const browser = app.browser();
  // Warm up: first calls compile WASM and start the worker.
  await timeLogin(browser, "ada@example.com");
  await timeLogin(browser, "nobody@example.com");

  // On a shared 2-core machine one round can be disturbed; a real leak (no
  // dummy verify) is ~20× apart and fails every round, noise does not.
  const rounds: string[] = [];
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < PAIRS_PER_ROUND; i++) {
      // Interleaved, alternating which goes first, so drift hits both.
      const pair = i % 2
        ? [["k", "ada@example.com"], ["u", `nobody${i}@example.com`]]
        : [["u", `nobody${i}@example.com`], ["k", "ada@example.com"]];
      for (const [kind, email] of pair) {
        (kind === "k" ? known : unknown).push(await timeLogin(browser, email));
      }
    }
    const mk = median(known);
    const mu = median(unknown);
    const diff = Math.abs(mk - mu) / Math.max(mk, mu);
    rounds.push(
      `round ${round}: wrong password ${mk.toFixed(1)} ms, unknown email ${
        mu.toFixed(1)
      } ms (${(diff * 100).toFixed(1)}% apart)`,
    );
    if (diff <= TOLERANCE) {
      console.log(rounds.join("\n"));
      return;
    }
  }
  assert.fail(
    `medians more than 20% apart in every round:\n${rounds.join("\n")}`,
  );
});
