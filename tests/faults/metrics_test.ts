// The app's OpenTelemetry metrics, as an operator's collector receives them:
// main.ts in a child process with Deno's built-in OpenTelemetry (OTEL_DENO)
// exporting OTLP/HTTP JSON to a small receiver on loopback.
import assert from "node:assert/strict";
import { GOOD_PASSWORD, linkPath, TestBrowser, waitUntil } from "../helpers.ts";
import { startSmtpServer } from "../smtp_server.ts";
import { spawnApp } from "./process.ts";

interface Point {
  attributes?: { key: string; value: { stringValue?: string } }[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
}

/** Latest data point per metric name and attribute set (cumulative sums). */
function startReceiver() {
  const latest = new Map<string, number>();
  const seen = new Set<string>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const body = await req.text();
      if (new URL(req.url).pathname === "/v1/metrics") {
        const data = JSON.parse(body);
        for (const rm of data.resourceMetrics ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            if (sm.scope?.name !== "cloud-user") continue;
            for (const m of sm.metrics) {
              seen.add(m.name);
              const points: Point[] = m.sum?.dataPoints ??
                m.gauge?.dataPoints ?? m.histogram?.dataPoints ?? [];
              for (const p of points) {
                const attrs = (p.attributes ?? [])
                  .map((a) => `${a.key}=${a.value.stringValue}`).sort()
                  .join(",");
                const value = Number(p.asInt ?? p.asDouble ?? p.count ?? 0);
                latest.set(`${m.name}{${attrs}}`, value);
              }
            }
          }
        }
      }
      return Response.json({});
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    latest,
    seen,
    close: () => server.shutdown(),
  };
}

Deno.test("metrics: a child process exports its counters over OTLP/HTTP", async () => {
  const otlp = startReceiver();
  await using smtp = await startSmtpServer();
  const app = await spawnApp({
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_METRIC_EXPORT_INTERVAL: "200",
    OTEL_SERVICE_NAME: "cloud-user-test",
    KV_PATH: ":memory:",
    MAIL_BACKEND: "smtp",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
    // Two tries per action and client, so the third sign-in is refused.
    RATE_LIMIT_IP: "2/1m",
  });
  try {
    const browser = new TestBrowser(app.url);
    const reg = await browser.register({ email: "otel@example.com" });
    assert.equal(reg.status, 303);
    const [mail] = await smtp.waitFor(1, 10_000);
    const activated = await browser.post(linkPath(mail.text, "/activate/"));
    assert.equal(activated.status, 303);
    const login = (password: string) =>
      new TestBrowser(app.url).post("/login", {
        email: "otel@example.com",
        password,
      });
    assert.equal((await login(GOOD_PASSWORD)).status, 303);
    assert.equal((await login("not the password")).status, 400);
    assert.equal((await login(GOOD_PASSWORD)).status, 429);

    const want: Record<string, (v: number) => boolean> = {
      "cloud_user.registrations{kind=new}": (v) => v === 1,
      "cloud_user.activations{}": (v) => v === 1,
      "cloud_user.logins{outcome=ok}": (v) => v === 1,
      "cloud_user.logins{outcome=failed}": (v) => v === 1,
      "cloud_user.rate_limited{route=/login}": (v) => v === 1,
      "cloud_user.mails{outcome=sent,signal=user_registered}": (v) => v === 1,
      "cloud_user.signal_to_mail{signal=user_registered}": (v) => v === 1,
      "cloud_user.password_hash_queue{}": (v) => v === 0,
    };
    const ok = () =>
      Object.entries(want).every(([k, check]) =>
        otlp.latest.has(k) && check(otlp.latest.get(k)!)
      );
    await waitUntil(ok, 10_000).catch(() => {
      assert.fail(
        `metrics seen: ${JSON.stringify(Object.fromEntries(otlp.latest))}`,
      );
    });
  } finally {
    app.kill("SIGTERM");
    await app.exited;
    await otlp.close();
  }
});
