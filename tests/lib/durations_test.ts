import assert from "node:assert/strict";
import { formatDuration, formatWait } from "../../lib/i18n/durations.ts";

const S = 1_000, M = 60 * S, H = 60 * M, D = 24 * H;

Deno.test("durations: every lifetime reads right in English and Russian", () => {
  const table: [number, string, string][] = [
    [1 * S, "1 second", "1 секунда"],
    [5 * S, "5 seconds", "5 секунд"],
    [22 * S, "22 seconds", "22 секунды"],
    [90 * S, "1 minute, 30 seconds", "1 минута 30 секунд"],
    [1 * M, "1 minute", "1 минута"],
    [2 * M, "2 minutes", "2 минуты"],
    [21 * M, "21 minutes", "21 минута"],
    [45 * M, "45 minutes", "45 минут"],
    [60 * M, "1 hour", "1 час"],
    [90 * M, "1 hour, 30 minutes", "1 час 30 минут"],
    [2 * H, "2 hours", "2 часа"],
    [5 * H, "5 hours", "5 часов"],
    [24 * H, "1 day", "1 день"],
    [36 * H, "1 day, 12 hours", "1 день 12 часов"],
    [48 * H, "2 days", "2 дня"],
    [72 * H, "3 days", "3 дня"],
    [7 * D, "7 days", "7 дней"],
    [21 * D, "21 days", "21 день"],
    // Smaller leftovers are dropped, never rounded up.
    [D + 30 * S, "1 day", "1 день"],
    [H + M + 59 * S, "1 hour, 1 minute", "1 час 1 минута"],
    [0, "1 second", "1 секунда"],
  ];
  for (const [ms, en, ru] of table) {
    assert.equal(formatDuration(ms, "en"), en, `en ${ms}`);
    assert.equal(formatDuration(ms, "ru"), ru, `ru ${ms}`);
  }
});

Deno.test("durations: no lifetime from 1 s to 60 days says zero or a bare number", () => {
  for (let ms = S; ms <= 60 * D; ms = Math.ceil(ms * 1.37)) {
    for (const lang of ["en", "ru"]) {
      const words = formatDuration(ms, lang);
      assert.doesNotMatch(words, /(^|\D)0(\D|$)/, `${lang} ${ms}: ${words}`);
      assert.match(words, /\p{L}/u, `${lang} ${ms}: ${words}`);
      assert.doesNotMatch(words, /\b1 (seconds|minutes|hours|days)\b/);
    }
  }
});

Deno.test("durations: a wait is relative, one unit, rounded up", () => {
  const table: [number, string, string][] = [
    [1, "in 1 second", "через 1 секунду"],
    [999, "in 1 second", "через 1 секунду"],
    [1 * S, "in 1 second", "через 1 секунду"],
    [5 * S, "in 5 seconds", "через 5 секунд"],
    [42 * S, "in 42 seconds", "через 42 секунды"],
    [89 * S, "in 89 seconds", "через 89 секунд"],
    [90 * S, "in 2 minutes", "через 2 минуты"],
    [5 * M, "in 5 minutes", "через 5 минут"],
    [21 * M, "in 21 minutes", "через 21 минуту"],
    [2 * H, "in 2 hours", "через 2 часа"],
  ];
  for (const [ms, en, ru] of table) {
    assert.equal(formatWait(ms, "en"), en, `en ${ms}`);
    assert.equal(formatWait(ms, "ru"), ru, `ru ${ms}`);
  }
});
