// /static: the stylesheet and scripts, served by Hono's Deno adapter from the
// static/ folder beside this app (wherever it is started from), with ETags.
import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { etag } from "hono/etag";

export function staticRoutes(
  root: string = new URL("..", import.meta.url).pathname,
) {
  const app = new Hono();
  app.use(etag());
  app.use(async (c, next) => {
    await next();
    if (!c.res.ok) return;
    // Built files carry their content hash in the name: cache them for good.
    c.header(
      "Cache-Control",
      c.req.path.startsWith("/static/build/islands-")
        ? "public, max-age=31536000, immutable"
        : "public, max-age=300",
    );
  });
  app.use(serveStatic({ root }));
  return app;
}
