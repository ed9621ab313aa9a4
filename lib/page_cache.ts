// Pages that are the same for every visitor in a language are rendered once:
// the HTML, its gzip and brotli forms and an ETag are kept per (page,
// language, signed in or not), which is all a page frame depends on. The
// cache belongs to one app (created by the route module, never at module
// level), and holds a handful of entries: one per page and language.
import { Buffer } from "node:buffer";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { parseAccept } from "hono/utils/accept";
import type { VNode } from "preact";
import { render } from "preact-render-to-string";
import type { AppContext } from "./http.ts";

interface CachedPage {
  identity: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  br: Uint8Array<ArrayBuffer>;
  etag: string;
}

export interface PageCache {
  /** The page `name`, rendered by `page()` the first time it is asked for. */
  serve(c: AppContext, name: string, page: () => VNode): Promise<Response>;
}

/** br when the client takes it, else gzip, else none (q=0 means "not this"). */
export function pickEncoding(
  header: string | undefined,
): "br" | "gzip" | null {
  if (!header) return null;
  const accepts = parseAccept(header);
  const q = (name: string) =>
    accepts.find((a) => a.type.toLowerCase() === name)?.q ??
      accepts.find((a) => a.type === "*")?.q ?? 0;
  const br = q("br");
  const gzip = q("gzip");
  if (br > 0 && br >= gzip) return "br";
  return gzip > 0 ? "gzip" : null;
}

const bytes = (b: Buffer) => new Uint8Array(b) as Uint8Array<ArrayBuffer>;

async function build(page: VNode): Promise<CachedPage> {
  const html = new TextEncoder().encode("<!doctype html>" + render(page));
  const digest = await crypto.subtle.digest("SHA-256", html);
  return {
    identity: html,
    gzip: bytes(gzipSync(html, { level: 9 })),
    br: bytes(brotliCompressSync(html, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
    })),
    // Weak: the identity, gzip and br bodies are the same page.
    etag: `W/"${new Uint8Array(digest).subarray(0, 12).toBase64()}"`,
  };
}

export function createPageCache(): PageCache {
  const pages = new Map<string, Promise<CachedPage>>();
  return {
    async serve(c, name, page) {
      const key = `${name}\n${c.get("language")}\n${c.get("user") ? 1 : 0}`;
      let entry = pages.get(key);
      if (!entry) {
        entry = build(page());
        pages.set(key, entry);
        entry.catch(() => pages.delete(key));
      }
      const cached = await entry;
      // The page depends on the language and session cookies: browsers may
      // keep it but must ask again (a 304 is cheap); shared caches must not.
      c.header("Cache-Control", "private, no-cache");
      c.header("ETag", cached.etag);
      c.header("Vary", "Accept-Encoding, Accept-Language, Cookie");
      const match = c.req.header("If-None-Match");
      if (match && match.split(",").some((t) => t.trim() === cached.etag)) {
        return c.body(null, 304);
      }
      c.header("Content-Type", "text/html; charset=UTF-8");
      const encoding = pickEncoding(c.req.header("Accept-Encoding"));
      if (encoding) c.header("Content-Encoding", encoding);
      return c.body(encoding ? cached[encoding] : cached.identity, 200);
    },
  };
}
