// Renders the templates in emails/<lang>/: NAME_subject.txt, NAME_body.txt and
// NAME_body.html, with {{placeholders}}. Values are HTML-escaped in the HTML
// body, and the subject is one line, so a first name cannot inject markup or
// mail headers.
import { escapeToBuffer } from "hono/utils/html";
import { DEFAULT_LANG } from "./i18n.ts";

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

function fill(
  template: string,
  vars: Record<string, string>,
  escape: (s: string) => string,
): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_match, name: string) => {
    if (!Object.hasOwn(vars, name)) {
      throw new Error(`email template uses {{${name}}} but it was not given`);
    }
    return escape(vars[name]);
  });
}

const escapeHtml = (s: string) => {
  const buffer: [string] = [""];
  escapeToBuffer(s, buffer);
  return buffer[0];
};
const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");

export interface EmailRenderer {
  render(
    name: string,
    lang: string,
    vars: Record<string, string>,
  ): Promise<RenderedEmail>;
}

/** Reads each template once, then serves it from memory. */
export function createEmailRenderer(
  dir: URL = new URL("../emails/", import.meta.url),
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
  return {
    async render(name, lang, vars) {
      const [subject, text, html] = await Promise.all([
        read(lang, `${name}_subject.txt`),
        read(lang, `${name}_body.txt`),
        read(lang, `${name}_body.html`),
      ]);
      return {
        // Templates end with a newline; a header must not.
        subject: fill(subject.trim(), vars, oneLine),
        text: fill(text, vars, (s) => s),
        html: fill(html, vars, escapeHtml),
      };
    },
  };
}
