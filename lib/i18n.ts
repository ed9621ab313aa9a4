// Messages by language. A language is a JSON file in locales/ registered
// below; pages and mails look keys up through a Translate function. Which
// language a request gets is Hono's languageDetector's job (lib/app.ts).
import en from "../locales/en.json" with { type: "json" };
import { formatMessage } from "./format_message.ts";

export type Dictionary = Record<string, string>;
export type Translate = (
  key: string,
  vars?: Record<string, string | number>,
) => string;

const DICTIONARIES: Record<string, Dictionary> = { en };
export const DEFAULT_LANG = "en";
export const LANGS = Object.keys(DICTIONARIES);

export function isLang(lang: string): boolean {
  return Object.hasOwn(DICTIONARIES, lang);
}

export function translator(lang: string): Translate {
  const dict = DICTIONARIES[lang] ?? DICTIONARIES[DEFAULT_LANG];
  const fallback = DICTIONARIES[DEFAULT_LANG];
  return (key, vars) => formatMessage(dict[key] ?? fallback[key] ?? key, vars);
}
