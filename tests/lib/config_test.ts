import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config.ts";

const STRONG = "k".repeat(48);

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
    DENO_ENV: "production",
    APP_ORIGIN: "https://example.com",
    MAIL_BACKEND: "smtp",
  });
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.error : "", /SECRET_KEY: required in production/);
});

Deno.test("config: a short SECRET_KEY is refused in every environment", () => {
  for (const env of ["production", "development"]) {
    const res = loadConfig({
      DENO_ENV: env,
      SECRET_KEY: "too-short",
      APP_ORIGIN: "https://example.com",
      MAIL_BACKEND: "smtp",
    });
    assert.equal(res.ok, false, env);
    assert.match(!res.ok ? res.error : "", /SECRET_KEY: must be at least 32/);
  }
});

Deno.test("config: production names every problem in one message", () => {
  const res = loadConfig({ DENO_ENV: "production", SECRET_KEY: "short" });
  assert.equal(res.ok, false);
  const error = !res.ok ? res.error : "";
  assert.match(error, /SECRET_KEY/);
  assert.match(error, /APP_ORIGIN: required/);
  assert.match(error, /MAIL_BACKEND: "console" does not deliver mail/);
  assert.equal(error.split("\n").length, 1, "one line");
});

Deno.test("config: production wants https links", () => {
  const res = loadConfig({
    DENO_ENV: "production",
    SECRET_KEY: STRONG,
    APP_ORIGIN: "http://example.com",
    MAIL_BACKEND: "smtp",
  });
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.error : "", /APP_ORIGIN: must be https/);
});

Deno.test("config: a complete production environment is accepted", () => {
  const res = loadConfig({
    DENO_ENV: "production",
    SECRET_KEY: STRONG,
    SECRET_KEY_FALLBACKS: ` ${"o".repeat(40)} , ${"p".repeat(40)}`,
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
  assert.deepEqual(c.secretKeyFallbacks, ["o".repeat(40), "p".repeat(40)]);
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

Deno.test("config: Deno Deploy gets the default KV and no queue", () => {
  const res = loadConfig({ DENO_DEPLOYMENT_ID: "abc123" });
  assert.ok(res.ok);
  assert.equal(res.config.kvPath, undefined);
  assert.equal(res.config.signalQueue, "none");
});

Deno.test("config: production refuses the public development key, :memory: and plain-http Resend", () => {
  const dev = "development-only-secret-do-not-use-in-production!!";
  const base = {
    DENO_ENV: "production",
    APP_ORIGIN: "https://example.com",
    MAIL_BACKEND: "resend",
    RESEND_API_KEY: "re_test",
  };
  const cases: [Record<string, string>, RegExp][] = [
    [{ SECRET_KEY: dev }, /SECRET_KEY: the development key is public/],
    [
      { SECRET_KEY: STRONG, SECRET_KEY_FALLBACKS: dev },
      /SECRET_KEY_FALLBACKS: the development key is public/,
    ],
    [{ SECRET_KEY: STRONG, KV_PATH: ":memory:" }, /KV_PATH: :memory:/],
    [
      { SECRET_KEY: STRONG, RESEND_BASE_URL: "http://api.example.com" },
      /RESEND_BASE_URL: must be https/,
    ],
  ];
  for (const [env, message] of cases) {
    const res = loadConfig({ ...base, ...env });
    assert.equal(res.ok, false, JSON.stringify(env));
    assert.match(!res.ok ? res.error : "", message);
  }
  // The development key is fine where it belongs.
  assert.ok(loadConfig({ SECRET_KEY: dev }).ok);
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
