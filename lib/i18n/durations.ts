// Durations in words, in the reader's language, from Intl alone: "3 days",
// "1 hour", "1 minute, 30 seconds", "через 1 минуту". No imports: the islands
// use it too, and Intl already knows every language's plural forms.

const UNITS = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
] as const;

// Building an Intl formatter costs far more than using one (~0.6 ms for a
// duration's three, on every mail the outbox sends): one per language and unit.
const numberFormats = new Map<string, Intl.NumberFormat>();
const listFormats = new Map<string, Intl.ListFormat>();

function unitWords(lang: string, unit: string, n: number): string {
  const key = `${lang}\0${unit}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(lang, {
      style: "unit",
      unit,
      unitDisplay: "long",
    });
    numberFormats.set(key, format);
  }
  return format.format(n);
}

/**
 * A lifetime in words: 72 h → "3 days", 90 s → "1 minute, 30 seconds",
 * 36 h → "1 day, 12 hours". At most two neighbouring units; whatever is
 * smaller is dropped, so a link never works for less than the page says.
 */
export function formatDuration(ms: number, lang: string): string {
  let rest = Math.max(1_000, ms);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(unitWords(lang, unit, n));
      rest -= n * size;
    } else if (parts.length) break; // "1 day", never "1 day, 30 seconds"
    if (parts.length === 2) break;
  }
  let list = listFormats.get(lang);
  if (!list) {
    list = new Intl.ListFormat(lang, { type: "unit", style: "long" });
    listFormats.set(lang, list);
  }
  return list.format(parts);
}

/**
 * How long until something is possible again, as a relative time: "in 42
 * seconds", "через 2 минуты". One unit, rounded up: a person told to come
 * back too soon is only refused again.
 */
export function formatWait(ms: number, lang: string): string {
  const s = Math.max(1, Math.ceil(ms / 1_000));
  const [n, unit] = s < 90
    ? [s, "second" as const]
    : s < 90 * 60
    ? [Math.ceil(s / 60), "minute" as const]
    : [Math.ceil(s / 3_600), "hour" as const];
  return new Intl.RelativeTimeFormat(lang, { numeric: "always" })
    .format(n, unit);
}
