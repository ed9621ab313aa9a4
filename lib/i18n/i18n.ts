// lib/i18n/ — words: locales/<lang>.json, message formatting, durations in
// words. Pure code the islands share; it imports nothing of ours.
//
// Messages by language. Every locales/<lang>.json found at start-up is a
// language: adding one is adding files (that and emails/<lang>/), not code.
// Which language a request gets is Hono's languageDetector's job (routes/_middleware.tsx).
import { formatMessage } from "./format_message.ts";

export type Dictionary = Record<string, string>;
export type Translate = (
  key: string,
  vars?: Record<string, string | number>,
) => string;

export const DEFAULT_LANG = "en";

export interface Language {
  code: string;
  /** The language's name in itself ("Русский"), for the switcher. */
  name: string;
}

export interface I18n {
  defaultLang: string;
  /** Codes, default first. */
  langs: string[];
  languages: Language[];
  has(lang: string): boolean;
  translator(lang: string): Translate;
}

const LANG_FILE = /^([a-z]{2,3}(?:-[A-Z]{2})?)\.json$/;

function makeTranslate(dict: Dictionary, fallback: Dictionary): Translate {
  return (key, vars) => formatMessage(dict[key] ?? fallback[key] ?? key, vars);
}

export function createI18n(
  dictionaries: Record<string, Dictionary>,
  defaultLang = DEFAULT_LANG,
): I18n {
  const fallback = dictionaries[defaultLang];
  if (!fallback) throw new Error(`no messages for "${defaultLang}"`);
  const langs = [
    defaultLang,
    ...Object.keys(dictionaries).filter((l) => l !== defaultLang).sort(),
  ];
  const translators = new Map(
    langs.map((l) => [l, makeTranslate(dictionaries[l], fallback)]),
  );
  return {
    defaultLang,
    langs,
    languages: langs.map((code) => ({
      code,
      name: dictionaries[code]["lang.name"] ?? code,
    })),
    has: (lang) => translators.has(lang),
    translator: (lang) =>
      translators.get(lang) ?? translators.get(defaultLang)!,
  };
}

/**
 * Reads every <lang>.json in `dir` (locales/ beside this module by default,
 * which `deno compile --include locales` keeps working).
 */
export async function loadLocales(
  dir: URL = new URL("../../locales/", import.meta.url),
): Promise<I18n> {
  const dictionaries: Record<string, Dictionary> = {};
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.isFile ? LANG_FILE.exec(entry.name) : null;
    if (!match) continue;
    const text = await Deno.readTextFile(new URL(entry.name, dir));
    dictionaries[match[1]] = JSON.parse(text) as Dictionary;
  }
  return createI18n(dictionaries);
}
