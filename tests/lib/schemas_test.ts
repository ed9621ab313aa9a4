// The first-name rule, as the server, the JSON API and the RegisterForm
// island all apply it (they share RegisterSchema).
import assert from "node:assert/strict";
import { RegisterSchema } from "../../lib/accounts/schemas.ts";
import { GOOD_PASSWORD } from "../helpers.ts";

const PHISHING =
  "customer. Your account is locked. Verify now at https://evil.example/…";

function nameError(first_name: string): string | null {
  const res = RegisterSchema.safeParse({
    first_name,
    email: "ada@example.com",
    password: GOOD_PASSWORD,
    password_confirm: GOOD_PASSWORD,
  });
  if (res.success) return null;
  return res.error.issues.find((i) => i.path[0] === "first_name")?.message ??
    null;
}

Deno.test("schemas: names people have are accepted", () => {
  for (
    const name of [
      "Ada",
      "Zoë",
      "José María",
      "O'Brien",
      "O’Brien",
      "Mary-Jane",
      "J.R.R.",
      "St. John",
      "Ада",
      "李小龙",
      "محمد",
      "Nguyễn",
      "Zoe\u0308", // e + combining diaeresis
    ]
  ) {
    assert.equal(nameError(name), null, name);
  }
});

Deno.test("schemas: links, symbols, control, format and bidi characters are refused", () => {
  for (
    const [why, name] of [
      ["the phishing example", PHISHING],
      ["a scheme", "Eve https://evil.example"],
      ["a bare host name", "Eve evil.example"],
      ["a www host", "www.evil"],
      ["://", "a://b"],
      ["a digit", "Ada1"],
      ["a bidi override (U+202E)", "Ada\u202Elive.exe"],
      ["a bidi isolate (U+2066)", "Ada\u2066x"],
      ["a line separator inside (U+2028)", "Ada\u2028Eve"],
      ["a paragraph separator inside (U+2029)", "Ada\u2029Eve"],
      ["a zero-width space", "Ada\u200BEve"],
      ["a zero-width joiner", "Ada\u200D"],
      ["a byte-order mark inside", "Ada\uFEFFEve"],
      ["a control character", "Ada\u0007"],
      ["a newline inside", "Ada\nEve"],
      ["a tab inside", "Ada\tEve"],
      ["markup", "<b>Ada</b>"],
      ["only zero-width characters", "\u200B\u200C\u200D"],
      ["only combining marks", "\u0301\u0301"],
      ["only punctuation", ".-'"],
    ]
  ) {
    assert.equal(nameError(name), "first_name.invalid", why);
  }
  assert.equal(nameError("   "), "first_name.required");
});
