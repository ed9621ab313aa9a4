// /healthz: JSON for load balancers and monitoring; 503 only when KV is out of
// reach (see lib/health.ts for why a stuck outbox is not a 503).
import { Hono } from "hono";
import type { AppDeps } from "../lib/deps.ts";
import { checkHealth } from "../lib/health.ts";

export function healthzRoutes(deps: AppDeps) {
  const { kv, clock, config } = deps;
  const app = new Hono();
  app.get("/", async (c) => {
    const report = await checkHealth(kv, {
      now: clock.now(),
      version: config.version,
      maxOutboxAgeMs: config.healthMaxOutboxAgeMs,
      passwords: {
        backend: deps.passwords.backend,
        queued: deps.passwords.queueLength(),
      },
      log: { dropped: deps.log.dropped() },
    });
    c.header("Cache-Control", "no-store");
    return c.json(report, report.kv.ok ? 200 : 503);
  });
  return app;
}
