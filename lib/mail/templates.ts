// Renders the templates in emails/<lang>/: NAME_subject.txt, NAME_body.txt,
// NAME_body.html and NAME_reason.txt (the footer's "why you got this"), with
// {{placeholders}}, inside the shared frame emails/layout.{html,txt}: the
// app's name or logo on top, the reason and the app's address below. Values
// are HTML-escaped in the HTML part, and the subject is one line, so a first
// name cannot inject markup or mail headers. {{{ name }}} (three braces)
// takes HTML this module built itself, unescaped.
import { escapeToBuffer } from "hono/utils/html";
import { DEFAULT_LANG } from "../i18n/i18n.ts";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

function fill(
  template: string,
  vars: Record<string, string>,
  escape: (s: string) => string,
  raw: Record<string, string> = {},
): string {
  // One pass: text put in is never read again as a placeholder.
  return template.replace(
    /\{\{(\{?)\s*(\w+)\s*\}\}\}?/g,
    (_match, brace: string, name: string) => {
      const from = brace ? raw : vars;
      if (!Object.hasOwn(from, name)) {
        throw new Error(`email template uses {{${name}}} but it was not given`);
      }
      return brace ? from[name] : escape(from[name]);
    },
  );
}

const escapeHtml = (s: string) => {
  const buffer: [string] = [""];
  escapeToBuffer(s, buffer);
  return buffer[0];
};
const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");

/** What every mail's frame shows, besides the mail's own placeholders. */
export interface MailBrand {
  app_name: string;
  /** The app's address, linked in the footer. */
  app_origin: string;
  /** An image for the top of the HTML part; the app's name when absent. */
  logo_url?: string;
}

export interface EmailRenderer {
  render(
    name: string,
    lang: string,
    vars: Record<string, string> & MailBrand,
  ): Promise<RenderedEmail>;
}

/** The app's indigo (static/styles.css --accent), for the wordmark's tile. */
const ACCENT = "#4338ca";

/** The top of the HTML part: the logo if there is one, else a wordmark. */
function brandHeader(brand: MailBrand): string {
  const name = escapeHtml(brand.app_name);
  if (brand.logo_url) {
    return `<img src="${
      escapeHtml(brand.logo_url)
    }" alt="${name}" height="32" style="display:block;height:32px;width:auto;max-width:100%;border:0">`;
  }
  return `<span style="display:inline-block;width:20px;height:20px;border-radius:6px;background:${ACCENT};vertical-align:-4px"></span>&nbsp;&nbsp;${name}`;
}

/** Reads each template once, then serves it from memory. */
export function createEmailRenderer(
  dir: URL = new URL("../../emails/", import.meta.url),
): EmailRenderer {
  const cache = new Map<string, Promise<string>>();
  const read = (lang: string, file: string): Promise<string> => {
    const key = `${lang}/${file}`;
    let text = cache.get(key);
    if (!text) {
      text = Deno.readTextFile(new URL(key, dir)).catch(
        async (err): Promise<string> => {
          if (lang === DEFAULT_LANG || !(err instanceof Deno.errors.NotFound)) {
            throw err;
          }
          return await read(DEFAULT_LANG, file);
        },
      );
      cache.set(key, text);
    }
    return text;
  };
  const readLayout = (file: string): Promise<string> => {
    let text = cache.get(file);
    if (!text) {
      text = Deno.readTextFile(new URL(file, dir));
      cache.set(file, text);
    }
    return text;
  };
  return {
    async render(name, lang, vars) {
      const [subject, text, html, reason, textFrame, htmlFrame] = await Promise
        .all([
          read(lang, `${name}_subject.txt`),
          read(lang, `${name}_body.txt`),
          read(lang, `${name}_body.html`),
          read(lang, `${name}_reason.txt`),
          readLayout("layout.txt"),
          readLayout("layout.html"),
        ]);
      const plain = (s: string) => s;
      // Templates end with a newline; a header must not.
      const subjectLine = fill(subject.trim(), vars, oneLine);
      const frameVars = {
        ...vars,
        lang,
        subject: subjectLine,
        reason: fill(reason.trim(), vars, oneLine),
      };
      return {
        subject: subjectLine,
        text: fill(textFrame, frameVars, plain, {
          body: fill(text, vars, plain).trimEnd(),
        }),
        html: fill(htmlFrame, frameVars, escapeHtml, {
          header: brandHeader(vars),
          body: fill(html, vars, escapeHtml).trim(),
        }),
      };
    },
  };
}
