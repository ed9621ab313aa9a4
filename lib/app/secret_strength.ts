// Whether a configured signing key looks like a real secret. Length alone
// lets "kkkk…", "abcdabcd…" or "password000…" through, and anyone who guesses
// the key can forge every activation and reset link.

export const MIN_SECRET_LENGTH = 32;

/** Public in this repository's history (it was the built-in development key). */
const PUBLISHED_KEYS = new Set([
  "development-only-secret-do-not-use-in-production!!",
]);

/** Words people pad out to the required length. */
const WEAK_WORDS = [
  "password",
  "passwd",
  "secret",
  "changeme",
  "change",
  "letmein",
  "qwerty",
  "admin",
  "example",
  "development",
  "production",
  "default",
  "test",
  "key",
  "token",
  "deno",
  "cloud",
  "user",
];
const WEAK_WORD = new RegExp(WEAK_WORDS.join("|"), "gi");
const SEQUENCES = [
  "0123456789",
  "abcdefghijklmnopqrstuvwxyz",
  "qwertyuiopasdfghjklzxcvbnm",
];

/** Characters left after dropping weak words, runs and keyboard sequences. */
function residue(key: string): string {
  let rest = key.replace(WEAK_WORD, "");
  // Runs of one character ("!!!!", "0000") count once.
  rest = rest.replace(/(.)\1+/g, "$1");
  // Four or more steps along a sequence, either way ("1234", "dcba").
  const lower = rest.toLowerCase();
  let out = "";
  for (let i = 0; i < rest.length;) {
    let j = i + 1;
    while (j < rest.length && isStep(lower[j - 1], lower[j])) j++;
    out += j - i >= 4 ? rest[i] : rest.slice(i, j);
    i = j;
  }
  return out;
}

function isStep(a: string, b: string): boolean {
  return SEQUENCES.some((s) => {
    const i = s.indexOf(a);
    return i >= 0 && (s[i + 1] === b || s[i - 1] === b);
  });
}

/** The shortest p such that the key repeats its first p characters. */
function period(key: string): number {
  for (let p = 1; p <= key.length / 2; p++) {
    let repeats = true;
    for (let i = p; i < key.length && repeats; i++) {
      repeats = key[i] === key[i - p];
    }
    if (repeats) return p;
  }
  return key.length;
}

/**
 * Why `key` is not a usable secret, as the end of a sentence naming the
 * variable ("SECRET_KEY: <reason>"), or null when it looks random enough.
 */
export function weakSecretReason(key: string): string | null {
  if (key.length < MIN_SECRET_LENGTH) {
    return `is ${key.length} characters; use at least ${MIN_SECRET_LENGTH} random ones`;
  }
  if (PUBLISHED_KEYS.has(key)) {
    return "is the old built-in development key, public in this repository";
  }
  if (/\s/.test(key)) return "contains whitespace";
  const p = period(key);
  if (p === 1) return "is one character repeated";
  if (p < key.length) return `repeats a ${p}-character pattern`;
  if (new Set(key).size < 10) return "uses fewer than 10 distinct characters";
  if (residue(key).length < 16) {
    return "is mostly a common word, runs or sequences padded out";
  }
  return null;
}

export const SECRET_ADVICE =
  "generate one with `openssl rand -base64 32` (or " +
  '`deno eval "console.log(crypto.randomUUID()+crypto.randomUUID())"`)';
