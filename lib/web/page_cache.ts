// Pages that are the same for every visitor in a language are rendered once:
// the HTML, its gzip and brotli forms and an ETag are kept per (page,
// language, signed in or not), which is all a page frame depends on. The
// cache belongs to one app (created by the route module, never at module
// level), and holds a handful of entries: one per page and language.
//
// Each entry keeps one finished Response per encoding, every header included
// (security headers too), and a request gets a clone: a Response built from
// twenty headers costs tens of microseconds of header validation, a clone
// well under one. The clone is marked complete, so the secure-headers and
// compress middleware leave it alone.
import { Buffer } from "node:buffer";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { parseAccept } from "hono/utils/accept";
import type { AppContext } from "./http.ts";
import { markComplete, SECURE_HEADERS } from "./secure_headers.ts";

type Encoding = "br" | "gzip";

interface CachedPage {
  identity: Response;
  gzip: Response;
  br: Response;
  etag: string;
}

export interface PageCache {
  /**
   * The page `name`, rendered by `page()` (its `c.render`) the first time it
   * is asked for; only its body is kept.
   */
  serve(
    c: AppContext,
    name: string,
    page: () => Response | Promise<Response>,
  ): Response | Promise<Response>;
}

/** br when the client takes it, else gzip, else none (q=0 means "not this"). */
export function pickEncoding(
  header: string | undefined,
): Encoding | null {
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

// The page depends on the language and session cookies: browsers may keep it
// but must ask again (a 304 is cheap); shared caches must not.
const CACHE_CONTROL = "private, no-cache";
const VARY = "Accept-Encoding, Accept-Language, Cookie";

function respond(
  body: Uint8Array<ArrayBuffer>,
  etag: string,
  encoding: Encoding | null,
): Response {
  const headers: [string, string][] = [
    ["Cache-Control", CACHE_CONTROL],
    ["ETag", etag],
    ["Vary", VARY],
    ["Content-Type", "text/html; charset=UTF-8"],
  ];
  if (encoding) headers.push(["Content-Encoding", encoding]);
  return new Response(body, {
    status: 200,
    headers: [
      ...headers,
      ...SECURE_HEADERS.map(([k, v]): [string, string] => [k, v]),
    ],
  });
}

async function build(
  page: Response | Promise<Response>,
): Promise<CachedPage> {
  const html = new Uint8Array(await (await page).arrayBuffer());
  const digest = await crypto.subtle.digest("SHA-256", html);
  // Weak: the identity, gzip and br bodies are the same page.
  const etag = `W/"${new Uint8Array(digest).subarray(0, 12).toBase64()}"`;
  return {
    identity: respond(html, etag, null),
    gzip: respond(bytes(gzipSync(html, { level: 9 })), etag, "gzip"),
    br: respond(
      bytes(brotliCompressSync(html, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
      })),
      etag,
      "br",
    ),
    etag,
  };
}

/** Accept-Encoding values repeat; remember what each one picks. */
const ENCODING_MEMO_MAX = 64;

export function createPageCache(): PageCache {
  const pages = new Map<string, Promise<CachedPage>>();
  const built = new Map<string, CachedPage>();
  const encodings = new Map<string, Encoding | null>();
  function encodingFor(header: string | undefined): Encoding | null {
    if (!header) return null;
    let encoding = encodings.get(header);
    if (encoding === undefined) {
      encoding = pickEncoding(header);
      if (encodings.size >= ENCODING_MEMO_MAX) encodings.clear();
      encodings.set(header, encoding);
    }
    return encoding;
  }
  async function load(
    key: string,
    page: () => Response | Promise<Response>,
  ): Promise<CachedPage> {
    let entry = pages.get(key);
    if (!entry) {
      entry = build(page());
      pages.set(key, entry);
      entry.then((p) => built.set(key, p), () => pages.delete(key));
    }
    return await entry;
  }
  function answer(c: AppContext, cached: CachedPage): Response {
    const match = c.req.header("If-None-Match");
    if (match && match.split(",").some((t) => t.trim() === cached.etag)) {
      c.header("Cache-Control", CACHE_CONTROL);
      c.header("ETag", cached.etag);
      c.header("Vary", VARY);
      return c.body(null, 304);
    }
    const encoding = encodingFor(c.req.header("Accept-Encoding"));
    // A handler's own Response replaces what c.header() prepared; nothing
    // before this handler prepares any (X-Request-Id is set on the way out).
    return markComplete(cached[encoding ?? "identity"].clone());
  }
  return {
    serve(c, name, page) {
      const key = `${name}\n${c.get("language")}\n${c.get("user") ? 1 : 0}`;
      const cached = built.get(key);
      return cached
        ? answer(c, cached)
        : load(key, page).then((p) => answer(c, p));
    },
  };
}
