// /healthz: JSON for load balancers and monitoring; 503 only when KV is out of
// reach (see lib/web/health.ts for why a stuck outbox is not a 503). Anyone gets
// `{status}`; the figures (backlog, failures, version) only a request from
// this machine straight to the app, or one with HEALTH_TOKEN as its bearer.
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { AppDeps } from "../lib/app/deps.ts";
import { checkHealth, type HealthReport } from "../lib/web/health.ts";
import type { AppEnv } from "../lib/web/http.ts";
import { isDirectFromLoopback } from "../lib/web/request_limits.tsx";

/** The figures are computed at most this often, however many probes come. */
export const HEALTH_CACHE_MS = 5_000;

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time: the comparison does not tell how much of a guess was right. */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function healthzRoutes(deps: AppDeps) {
  const { kv, clock, config } = deps;
  const app = new Hono<AppEnv>();
  let cached: { at: number; report: Promise<HealthReport> } | null = null;

  /** One computation per HEALTH_CACHE_MS, shared by concurrent probes. */
  function currentReport(): Promise<HealthReport> {
    const now = clock.now();
    if (!cached || now - cached.at >= HEALTH_CACHE_MS || now < cached.at) {
      cached = {
        at: now,
        report: checkHealth(kv, {
          now,
          version: config.version,
          maxOutboxAgeMs: config.healthMaxOutboxAgeMs,
          passwords: {
            backend: deps.passwords.backend,
            queued: deps.passwords.queueLength(),
          },
          log: { dropped: deps.log.dropped() },
        }),
      };
    }
    return cached.report;
  }

  app.get("/", async (c) => {
    const bearer = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "");
    const detailed = isDirectFromLoopback(c) ||
      (config.healthToken !== undefined && bearer !== null &&
        sameToken(bearer[1], config.healthToken));
    const report = await currentReport();
    c.header("Cache-Control", "no-store");
    const status = report.kv.ok ? 200 : 503;
    return detailed
      ? c.json(report, status)
      : c.json({ status: report.status }, status);
  });
  return app;
}
