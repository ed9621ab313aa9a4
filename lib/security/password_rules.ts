// The password rules, shared by the server's schema and the browser's strength
// meter so both always agree. Browser-safe: no Deno APIs, no imports.

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

// Passwords of 10+ characters that top every breach list; a short list keeps
// the islands bundle small while catching what people actually type.
const COMMON = new Set([
  "1234567890",
  "0123456789",
  "12345678910",
  "123456789a",
  "a123456789",
  "qwertyuiop",
  "qwertyuiop1",
  "1qaz2wsx3edc",
  "1q2w3e4r5t",
  "1q2w3e4r5t6y",
  "q1w2e3r4t5",
  "zaq12wsxcde3",
  "password12",
  "password123",
  "password1234",
  "passw0rd123",
  "iloveyou12",
  "football123",
  "baseball123",
  "superman123",
  "letmein123",
  "welcome123",
  "welcome1234",
  "administrator",
  "changeme123",
  "qwerty12345",
  "qwerty123456",
  "abc1234567",
  "abcdefghij",
  "1111111111",
  "asdfghjkl1",
  "asdfghjkl;",
  "zxcvbnm123",
  "princess123",
  "sunshine123",
  "monkey12345",
  "dragon12345",
  "michael123",
  "computer123",
  "internet123",
  "trustno1234",
  "йцукенгшщз",
  "пароль1234",
  "пароль12345",
]);

const SEQUENCES = [
  "abcdefghijklmnopqrstuvwxyz",
  "qwertyuiopasdfghjklzxcvbnm",
  "01234567890",
  "йцукенгшщзхъфывапролджэячсмитьбю",
  "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
];

export type WeakReason = "common" | "repetitive" | "sequence" | "personal";

/** Why a password is trivially guessable, or null when it is not. */
export function weakPasswordReason(
  password: string,
  personal: string[] = [],
): WeakReason | null {
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return "common";
  if (new Set(lower).size < 4) return "repetitive";
  const forward = SEQUENCES.some((s) => s.includes(lower));
  const backward = SEQUENCES.some((s) =>
    s.includes([...lower].reverse().join(""))
  );
  if (forward || backward) return "sequence";
  const words = personal.map((p) => p.trim().toLowerCase())
    .flatMap((p) => [p, p.split("@")[0]])
    .filter((p) => p.length >= 4);
  if (words.some((w) => lower.includes(w) && lower.length - w.length < 4)) {
    return "personal";
  }
  return null;
}

/** 0 (unusable) … 4 (strong): drives the meter, never the server's decision. */
export function passwordScore(password: string): number {
  if (password.length < PASSWORD_MIN || weakPasswordReason(password)) return 0;
  const classes = [/[a-zа-яё]/, /[A-ZА-ЯЁ]/, /\d/, /[^\p{L}\d]/u]
    .filter((re) => re.test(password)).length;
  const long = password.length >= 16 ? 1 : 0;
  return Math.min(4, Math.max(1, classes - 1 + long));
}
