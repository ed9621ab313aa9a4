// Which mail backends production accepts, and what each one requires.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/app/config.ts";
import denoJson from "../../deno.json" with { type: "json" };

const PRODUCTION = {
  APP_ENV: "production",
  APP_ORIGIN: "https://app.example.com",
  SECRET_KEY: "a-production-secret-that-is-long-enough-0123",
};

Deno.test("config: production accepts resend with an API key, over Resend's own URL", () => {
  const res = loadConfig({
    ...PRODUCTION,
    MAIL_BACKEND: "resend",
    RESEND_API_KEY: "re_live_key",
  });
  assert.ok(res.ok, res.ok ? "" : res.error);
  assert.deepEqual(res.config.mail.resend, {
    apiKey: "re_live_key",
    baseUrl: undefined,
  });
});

Deno.test("config: resend without RESEND_API_KEY is named in the error", () => {
  const res = loadConfig({ MAIL_BACKEND: "resend" });
  assert.equal(res.ok, false);
  assert.match(
    !res.ok ? res.error : "",
    /RESEND_API_KEY: required when MAIL_BACKEND=resend/,
  );
});

Deno.test("config: production refuses the backends that deliver nothing", () => {
  for (const backend of ["console", "memory"]) {
    const res = loadConfig({ ...PRODUCTION, MAIL_BACKEND: backend });
    assert.equal(res.ok, false);
    assert.match(!res.ok ? res.error : "", /MAIL_BACKEND: "\w+" does not/);
  }
  assert.ok(loadConfig({ ...PRODUCTION, MAIL_BACKEND: "smtp" }).ok);
});

Deno.test("config: an unknown backend or a bad RESEND_BASE_URL is refused", () => {
  const res = loadConfig({
    MAIL_BACKEND: "sendgrid",
    RESEND_BASE_URL: "ftp://x",
  });
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.error : "", /MAIL_BACKEND/);
  assert.match(!res.ok ? res.error : "", /RESEND_BASE_URL/);
});

Deno.test("config: version comes from APP_VERSION, else deno.json", () => {
  const plain = loadConfig({});
  assert.ok(plain.ok);
  assert.equal(plain.config.version, denoJson.version);
  assert.match(plain.config.version, /^\d+\.\d+\.\d+/);
  const set = loadConfig({ APP_VERSION: "2026.05.01-abc123" });
  assert.ok(set.ok);
  assert.equal(set.config.version, "2026.05.01-abc123");
});

Deno.test("config: a remote KV URL is kept as given; Deploy without one uses its own KV", () => {
  const remote = loadConfig({
    KV_PATH: "https://kv.example.com:4512",
    DENO_KV_ACCESS_TOKEN: "token",
  });
  assert.ok(remote.ok);
  assert.equal(remote.config.kvPath, "https://kv.example.com:4512");
  assert.equal(remote.config.signalQueue, "none");
  const deploy = loadConfig({
    DENO_DEPLOYMENT_ID: "abc123",
    APP_ENV: "development",
  });
  assert.ok(deploy.ok);
  assert.equal(deploy.config.kvPath, undefined);
  assert.equal(deploy.config.signalQueue, "none");
});

Deno.test("config: Resend gets its documented 5 sends a second, other backends no limit", () => {
  const resend = loadConfig({ MAIL_BACKEND: "resend", RESEND_API_KEY: "re_k" });
  assert.ok(resend.ok);
  assert.equal(resend.config.mail.maxPerSecond, 5);
  const smtp = loadConfig({ MAIL_BACKEND: "smtp" });
  assert.ok(smtp.ok);
  assert.equal(smtp.config.mail.maxPerSecond, 0);
  const set = loadConfig({
    MAIL_BACKEND: "resend",
    RESEND_API_KEY: "re_k",
    MAIL_MAX_PER_SECOND: "2.5",
  });
  assert.ok(set.ok);
  assert.equal(set.config.mail.maxPerSecond, 2.5);
});

Deno.test("config: dead letters after 10 attempts or 2 days unless set", () => {
  const plain = loadConfig({});
  assert.ok(plain.ok);
  assert.equal(plain.config.mail.maxAttempts, 10);
  assert.equal(plain.config.mail.maxAgeMs, 2 * 86_400_000);
  const set = loadConfig({ MAIL_MAX_ATTEMPTS: "3", MAIL_MAX_AGE: "12h" });
  assert.ok(set.ok);
  assert.equal(set.config.mail.maxAttempts, 3);
  assert.equal(set.config.mail.maxAgeMs, 12 * 3_600_000);
});

Deno.test("config: bad mail limits are each named", () => {
  const res = loadConfig({
    MAIL_MAX_PER_SECOND: "-1",
    MAIL_MAX_ATTEMPTS: "0",
    MAIL_MAX_AGE: "soon",
  });
  assert.equal(res.ok, false);
  const error = !res.ok ? res.error : "";
  for (
    const name of ["MAIL_MAX_PER_SECOND", "MAIL_MAX_ATTEMPTS", "MAIL_MAX_AGE"]
  ) {
    assert.match(error, new RegExp(name));
  }
});
