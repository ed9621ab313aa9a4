import assert from "node:assert/strict";
import { loadConfig } from "../../lib/app/config.ts";

const STRONG = "q7Vf2Lx9RkP0sWm4ZbT8nJc1HyD6gAe3";
const OLD_KEY = "Zt5Rw8Kd2Mq9Xp4Lc7Vb1Nh6Gf3Js0Ya";

Deno.test("config: development starts with no environment at all", () => {
  const res = loadConfig({});
  assert.ok(res.ok);
  assert.equal(res.config.env, "development");
  assert.equal(res.config.port, 8000);
  assert.equal(res.config.appOrigin, "http://localhost:8000");
  assert.equal(res.config.kvPath, "data/cloud-user.sqlite3");
  assert.equal(res.config.mail.backend, "console");
  assert.equal(res.config.activationMaxAgeMs, 3 * 86_400_000);
  assert.equal(res.config.pendingUserTtlMs, 7 * 86_400_000);
  assert.equal(res.config.sessionTtlMs, 14 * 86_400_000);
  assert.equal(res.config.redirectAfterActivation, "/account");
  assert.equal(res.config.redirectIfAlreadyActive, "/login?activated=1");
  assert.equal(res.config.secureCookies, false, "plain-http localhost");
  assert.equal(res.config.signalQueue, "kv");
});

Deno.test("config: production refuses a missing SECRET_KEY", () => {
  const res = loadConfig({
    APP_ENV: "production",
    APP_ORIGIN: "https://example.com",
    MAIL_BACKEND: "smtp",
  });
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.error : "", /SECRET_KEY: required in production/);
});

Deno.test("config: a short SECRET_KEY is refused in every environment", () => {
  for (const env of ["production", "development"]) {
    const res = loadConfig({
      APP_ENV: env,
      SECRET_KEY: "too-short",
      APP_ORIGIN: "https://example.com",
      MAIL_BACKEND: "smtp",
    });
    assert.equal(res.ok, false, env);
    assert.match(!res.ok ? res.error : "", /SECRET_KEY: is 9 characters/);
  }
});

Deno.test("config: production names every problem in one message", () => {
  const res = loadConfig({ APP_ENV: "production", SECRET_KEY: "short" });
  assert.equal(res.ok, false);
  const error = !res.ok ? res.error : "";
  assert.match(error, /SECRET_KEY/);
  assert.match(error, /APP_ORIGIN: required/);
  assert.match(error, /MAIL_BACKEND: "console" does not deliver mail/);
  assert.equal(error.split("\n").length, 1, "one line");
});

Deno.test("config: production wants https links", () => {
  const res = loadConfig({
    APP_ENV: "production",
    SECRET_KEY: STRONG,
    APP_ORIGIN: "http://example.com",
    MAIL_BACKEND: "smtp",
  });
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.error : "", /APP_ORIGIN: must be https/);
});

Deno.test("config: a complete production environment is accepted", () => {
  const res = loadConfig({
    APP_ENV: "production",
    SECRET_KEY: STRONG,
    SECRET_KEY_FALLBACKS: ` ${OLD_KEY} , ${
      OLD_KEY.split("").reverse().join("")
    }`,
    APP_ORIGIN: "https://accounts.example.com/",
    MAIL_BACKEND: "smtp",
    SMTP_HOST: "smtp.example.com",
    SMTP_PORT: "465",
    SMTP_SECURE: "true",
    ACTIVATION_MAX_AGE: "12h",
    SESSION_TTL: "90m",
    PENDING_USER_TTL: "86400",
  });
  assert.ok(res.ok, !res.ok ? res.error : "");
  const c = res.config;
  assert.equal(c.appOrigin, "https://accounts.example.com");
  assert.equal(c.secureCookies, true);
  assert.deepEqual(c.secretKeyFallbacks, [
    OLD_KEY,
    OLD_KEY.split("").reverse().join(""),
  ]);
  assert.equal(c.mail.smtp.port, 465);
  assert.equal(c.mail.smtp.secure, true);
  assert.equal(c.activationMaxAgeMs, 12 * 3_600_000);
  assert.equal(c.sessionTtlMs, 90 * 60_000);
  assert.equal(c.pendingUserTtlMs, 86_400_000);
});

Deno.test("config: bad values are named with what is wrong", () => {
  const res = loadConfig({
    PORT: "eighty",
    ACTIVATION_MAX_AGE: "3 days",
    MAIL_BACKEND: "carrier-pigeon",
    REDIRECT_AFTER_ACTIVATION: "https://evil.example.com",
    REDIRECT_IF_ALREADY_ACTIVE: "/\\evil.example.com",
    SMTP_SECURE: "maybe",
  });
  assert.equal(res.ok, false);
  const error = !res.ok ? res.error : "";
  for (
    const name of [
      "PORT",
      "ACTIVATION_MAX_AGE",
      "MAIL_BACKEND",
      "REDIRECT_AFTER_ACTIVATION",
      "REDIRECT_IF_ALREADY_ACTIVE",
      "SMTP_SECURE",
    ]
  ) {
    assert.match(error, new RegExp(`${name}:`), name);
  }
});

Deno.test("config: Deno Deploy gets the default KV and no queue, and is production", () => {
  const res = loadConfig({
    DENO_DEPLOYMENT_ID: "abc123",
    SECRET_KEY: STRONG,
    APP_ORIGIN: "https://app.example.com",
    MAIL_BACKEND: "resend",
    RESEND_API_KEY: "re_live",
  });
  assert.ok(res.ok, !res.ok ? res.error : "");
  assert.equal(res.config.env, "production");
  assert.equal(res.config.kvPath, undefined);
  assert.equal(res.config.signalQueue, "none");
  assert.deepEqual(res.config.warnings, []);
});

Deno.test("config: Deno Deploy without APP_ENV applies production's checks", () => {
  const res = loadConfig({ DENO_DEPLOYMENT_ID: "abc123" });
  assert.equal(res.ok, false);
  const error = !res.ok ? res.error : "";
  assert.match(error, /SECRET_KEY: required in production/);
  assert.match(error, /APP_ORIGIN: required in production/);
  assert.match(error, /MAIL_BACKEND: "console" does not deliver mail/);
});

Deno.test("config: APP_ENV other than production on Deploy is obeyed, with one warning", () => {
  const res = loadConfig({
    DENO_DEPLOYMENT_ID: "abc123",
    APP_ENV: "development",
  });
  assert.ok(res.ok, !res.ok ? res.error : "");
  assert.equal(res.config.env, "development");
  assert.equal(res.config.warnings.length, 1);
  assert.match(res.config.warnings[0], /APP_ENV=development on Deno Deploy/);
  const off = loadConfig({ APP_ENV: "development" });
  assert.ok(off.ok);
  assert.deepEqual(off.config.warnings, [], "no warning off Deploy");
});

Deno.test("config: DENO_ENV is refused with the new name, not silently ignored", () => {
  const res = loadConfig({ DENO_ENV: "production" });
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.error : "", /DENO_ENV: renamed to APP_ENV/);
});

Deno.test("config: development without SECRET_KEY leaves the key to startApp", () => {
  const res = loadConfig({});
  assert.ok(res.ok);
  assert.equal(res.config.secretKey, null);
});

Deno.test("config: a key that does not look like a secret is refused, in every environment", () => {
  const cases: [string, RegExp][] = [
    ["k".repeat(48), /one character repeated/],
    [" ".repeat(40), /contains whitespace/],
    [`${STRONG} `, /contains whitespace/],
    ["abcd".repeat(10), /repeats a 4-character pattern/],
    ["Xy7!".repeat(12), /repeats a 4-character pattern/],
    [
      "Password2024" + "!".repeat(24),
      /common word, runs or sequences padded out/,
    ],
    ["secret-0123456789-abcdefghijklmnop", /padded out/],
    ["passwordpasswordpassword12345678", /padded out/],
    ["0101010101aaaaaaaaaabbbbbbbbbbcc", /fewer than 10 distinct/],
    [
      "development-only-secret-do-not-use-in-production!!",
      /old built-in development key/,
    ],
  ];
  for (const APP_ENV of ["production", "development", "test"]) {
    for (const [key, message] of cases) {
      const res = loadConfig({
        APP_ENV,
        SECRET_KEY: key,
        APP_ORIGIN: "https://example.com",
        MAIL_BACKEND: "smtp",
      });
      assert.equal(res.ok, false, `${APP_ENV}: ${JSON.stringify(key)}`);
      const error = !res.ok ? res.error : "";
      assert.match(error, /SECRET_KEY: /);
      assert.match(error, message, JSON.stringify(key));
      assert.match(error, /openssl rand/, "says how to make one");
      assert.equal(error.split("\n").length, 1, "one line");
    }
  }
});

Deno.test("config: every fallback must look like a secret, and differ from the key", () => {
  const base = { SECRET_KEY: STRONG };
  const cases: [string, RegExp][] = [
    ["short", /key 1 is 5 characters/],
    [`${OLD_KEY},${"z".repeat(40)}`, /key 2 is one character repeated/],
    [STRONG, /key 1 is SECRET_KEY itself/],
  ];
  for (const [fallbacks, message] of cases) {
    const res = loadConfig({ ...base, SECRET_KEY_FALLBACKS: fallbacks });
    assert.equal(res.ok, false, fallbacks);
    assert.match(!res.ok ? res.error : "", /SECRET_KEY_FALLBACKS: /);
    assert.match(!res.ok ? res.error : "", message);
  }
  assert.ok(loadConfig({ ...base, SECRET_KEY_FALLBACKS: OLD_KEY }).ok);
});

Deno.test("config: generated keys pass", () => {
  for (let i = 0; i < 200; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const base64 = btoa(String.fromCharCode(...bytes));
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
      .join("");
    const uuids = crypto.randomUUID() + crypto.randomUUID();
    for (const key of [base64, hex, uuids]) {
      const res = loadConfig({ SECRET_KEY: key });
      assert.ok(res.ok, !res.ok ? res.error : "");
    }
  }
});

Deno.test("config: remote KV: no queue, a token, and https in production", () => {
  const remote = { KV_PATH: "https://kv.example.com:4512" };
  const noToken = loadConfig(remote);
  assert.equal(noToken.ok, false);
  assert.match(
    !noToken.ok ? noToken.error : "",
    /DENO_KV_ACCESS_TOKEN: required with a remote KV_PATH/,
  );
  const withToken = { ...remote, DENO_KV_ACCESS_TOKEN: "tok" };
  const ok = loadConfig(withToken);
  assert.ok(ok.ok);
  assert.equal(ok.config.signalQueue, "none");
  const queue = loadConfig({ ...withToken, SIGNAL_QUEUE: "kv" });
  assert.equal(queue.ok, false);
  assert.match(!queue.ok ? queue.error : "", /SIGNAL_QUEUE: kv does not work/);
  const production = {
    APP_ENV: "production",
    SECRET_KEY: STRONG,
    APP_ORIGIN: "https://example.com",
    MAIL_BACKEND: "smtp",
    DENO_KV_ACCESS_TOKEN: "tok",
  };
  const plain = loadConfig({
    ...production,
    KV_PATH: "http://kv.internal:4512",
  });
  assert.equal(plain.ok, false);
  assert.match(
    !plain.ok ? plain.error : "",
    /KV_PATH: a remote KV must be https/,
  );
  assert.ok(loadConfig({ ...production, KV_PATH: "https://kv.internal" }).ok);
  // Self-hosted development may use plain http.
  assert.ok(
    loadConfig({ DENO_KV_ACCESS_TOKEN: "tok", KV_PATH: "http://kv:4512" }).ok,
  );
});

Deno.test("config: production refuses :memory: and plain-http Resend", () => {
  const base = {
    APP_ENV: "production",
    APP_ORIGIN: "https://example.com",
    MAIL_BACKEND: "resend",
    RESEND_API_KEY: "re_test",
    SECRET_KEY: STRONG,
  };
  const cases: [Record<string, string>, RegExp][] = [
    [{ KV_PATH: ":memory:" }, /KV_PATH: :memory:/],
    [
      { RESEND_BASE_URL: "http://api.example.com" },
      /RESEND_BASE_URL: must be https/,
    ],
  ];
  for (const [env, message] of cases) {
    const res = loadConfig({ ...base, ...env });
    assert.equal(res.ok, false, JSON.stringify(env));
    assert.match(!res.ok ? res.error : "", message);
  }
});

Deno.test("config: SHUTDOWN_GRACE defaults to 5 s", () => {
  const res = loadConfig({});
  assert.ok(res.ok);
  assert.equal(res.config.shutdownGraceMs, 5_000);
  const set = loadConfig({ SHUTDOWN_GRACE: "20s" });
  assert.ok(set.ok);
  assert.equal(set.config.shutdownGraceMs, 20_000);
});

Deno.test("config: Argon2id parameters below every OWASP configuration are refused", () => {
  for (
    const [memory, iterations] of [["19455", "2"], ["19456", "1"], [
      "7167",
      "5",
    ], ["4096", "16"]]
  ) {
    const res = loadConfig({
      PASSWORD_MEMORY_KIB: memory,
      PASSWORD_ITERATIONS: iterations,
    });
    assert.equal(res.ok, false, `${memory}/${iterations}`);
    assert.match(
      !res.ok ? res.error : "",
      /PASSWORD_MEMORY_KIB\/PASSWORD_ITERATIONS: .* below OWASP's minimum/,
    );
  }
  for (
    const [memory, iterations] of [
      ["47104", "1"],
      ["19456", "2"],
      [
        "12288",
        "3",
      ],
      ["7168", "5"],
      ["65536", "3"],
    ]
  ) {
    const res = loadConfig({
      PASSWORD_MEMORY_KIB: memory,
      PASSWORD_ITERATIONS: iterations,
    });
    assert.ok(res.ok, `${memory}/${iterations}`);
    assert.deepEqual(res.config.passwordParams, {
      memoryKib: Number(memory),
      iterations: Number(iterations),
    });
  }
  const defaults = loadConfig({});
  assert.ok(defaults.ok);
  assert.deepEqual(defaults.config.passwordParams, {
    memoryKib: 19_456,
    iterations: 2,
  });
  assert.equal(defaults.config.passwordBackend, "auto");
});
