// Durations and counts as pages and mails say them, for odd configured
// lifetimes and in both languages: "1 minute, 30 seconds", never "0 hours".
import assert from "node:assert/strict";
import { startTestApp } from "../helpers.ts";

const RU = { "accept-language": "ru" };

const LIFETIMES: [string, string, string][] = [
  ["90s", "1 minute, 30 seconds", "1 минута 30 секунд"],
  ["1h", "1 hour", "1 час"],
  ["72h", "3 days", "3 дня"],
  ["25h", "1 day, 1 hour", "1 день 1 час"],
  ["5m", "5 minutes", "5 минут"],
];

Deno.test("words: the check-your-inbox pages say each lifetime in words, in both languages", async () => {
  for (const [age, en, ru] of LIFETIMES) {
    await using app = await startTestApp({
      env: { ACTIVATION_MAX_AGE: age, PASSWORD_RESET_MAX_AGE: age },
    });
    const b = app.browser();
    for (const path of ["/register/done", "/password/forgot/sent"]) {
      const page = await b.get(path);
      assert.equal(page.status, 200);
      assert.ok(page.body.includes(`works for ${en}.`), `${path} ${age}`);
      // Islands' messages keep their placeholders; the page's text may not.
      const text = page.body.replace(/data-props="[^"]*"/g, "");
      assert.doesNotMatch(text, /\b0 (hours|minutes)\b|\{\w+\}/);
      const ruPage = await b.get(path, RU);
      assert.ok(ruPage.body.includes(`— ${ru}.`), `${path} ru ${age}`);
    }
  }
});

Deno.test("words: the activation and reset mails say each lifetime in words", async () => {
  for (const [age, en, ru] of LIFETIMES.slice(0, 3)) {
    await using app = await startTestApp({
      env: { ACTIVATION_MAX_AGE: age, PASSWORD_RESET_MAX_AGE: age },
    });
    await app.browser().register({ email: "ada@example.com" });
    await app.browser().post("/register", {
      first_name: "Иван",
      email: "ivan@example.com",
      password: "correct horse battery",
      password_confirm: "correct horse battery",
    }, RU);
    const mails = await app.mailer.waitFor(2);
    const enMail = mails.find((m) => m.to === "ada@example.com")!;
    const ruMail = mails.find((m) => m.to === "ivan@example.com")!;
    assert.ok(enMail.text.includes(`works for ${en}.`), enMail.text);
    assert.ok(enMail.html.includes(`works for ${en}.`));
    assert.ok(ruMail.text.includes(`Срок действия ссылки — ${ru}.`));
    assert.ok(ruMail.html.includes(`Срок действия ссылки — ${ru}.`));
  }
});

Deno.test("words: a 429 page says the wait in words, singular where it is one", async () => {
  await using app = await startTestApp({ env: { RATE_LIMIT_IP: "1/1s" } });
  const login = (headers?: HeadersInit) =>
    app.browser().post("/login", {
      email: "x@example.com",
      password: "whatever it is",
    }, headers);
  await login();
  const refused = await login();
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.match(refused.body, /You can try again in 1 second\./);
  assert.doesNotMatch(refused.body, /1 seconds|for a while/);
  const ru = await login(RU);
  assert.equal(ru.status, 429);
  assert.match(ru.body, /Попробовать снова можно через 1 секунду\./);
});
