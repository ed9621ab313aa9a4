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
  // A name no file can have (a NUL byte, a segment past the file system's
  // 255 bytes) is a plain 404 here; serveStatic would log the OS error.
  app.use(async (c, next) => {
    const path = c.req.path;
    const tooLong = path.split("/").some((s) => s.length > 255);
    if (path.includes("\0") || tooLong) return c.notFound();
    await next();
  });
  app.use(serveStatic({ root }));
  return app;
}
