// Which mail backends production accepts, and what each one requires.
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config.ts";
import denoJson from "../../deno.json" with { type: "json" };

const PRODUCTION = {
  DENO_ENV: "production",
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
  const remote = loadConfig({ KV_PATH: "https://kv.example.com:4512" });
  assert.ok(remote.ok);
  assert.equal(remote.config.kvPath, "https://kv.example.com:4512");
  assert.equal(remote.config.signalQueue, "none");
  const deploy = loadConfig({ DENO_DEPLOYMENT_ID: "abc123" });
  assert.ok(deploy.ok);
  assert.equal(deploy.config.kvPath, undefined);
  assert.equal(deploy.config.signalQueue, "none");
});
