import assert from "node:assert/strict";
import { REGISTER_AGAIN_MAIL_COOLDOWN_MS } from "../../lib/accounts/accounts.ts";
import {
  createActiveAccount,
  GOOD_PASSWORD,
  linkPath,
  outboxDrained,
  startTestApp,
  type TestApp,
  type TestBrowser,
} from "../helpers.ts";

const en = JSON.parse(
  await Deno.readTextFile(new URL("../../locales/en.json", import.meta.url)),
) as Record<string, string>;
const KEYS = Object.keys(en);

const PAGES = [
  "/register",
  "/register/done",
  "/login",
  "/login?activated=1",
  "/activate/resend",
  "/activate/sent",
  "/activate/not-a-token",
  "/password/forgot",
  "/password/forgot/sent",
  "/password/reset/not-a-token",
  "/no/such/page",
];
const SIGNED_IN_PAGES = ["/account", "/account"];

async function pagesIn(app: TestApp, signedIn: TestBrowser, lang: string) {
  const out: [string, string][] = [];
  const browser = app.browser();
  for (const path of [...PAGES, ...SIGNED_IN_PAGES]) {
    const res = await (PAGES.includes(path) ? browser : signedIn)
      .get(path, { "accept-language": lang });
    assert.ok(res.status < 300 || res.status >= 400, `${path}: ${res.status}`);
    out.push([path, res.body]);
  }
  // Pages only a POST shows: field errors, and the 429 page.
  const form = await browser.post("/register", {}, { "accept-language": lang });
  out.push(["POST /register", form.body]);
  for (let i = 0; i < 4; i++) {
    const res = await browser.post("/login", {
      email: "someone@example.com",
      password: "not the password",
    }, { "accept-language": lang });
    out.push([`POST /login #${i}`, res.body]);
    assert.equal(res.status, i < 3 ? 400 : 429);
  }
  return out;
}

for (
  const [lang, sample, other] of [
    ["en", /<legend>Language</, /Язык/],
    ["ru", /<legend>Язык</, /Language/],
  ] as const
) {
  Deno.test(`i18n: every page renders in ${lang} without a missing message`, async () => {
    await using app = await startTestApp();
    const browser = await createActiveAccount(app);
    for (const [path, body] of await pagesIn(app, browser, lang)) {
      assert.match(body, new RegExp(`<html lang="${lang}">`), path);
      assert.match(body, sample, path);
      assert.doesNotMatch(body, other, path);
      // A missing message renders as its key.
      const leaked = KEYS.filter((k) =>
        body.includes(`>${k}<`) || body.includes(`"${k}"`)
      );
      assert.deepEqual(leaked, [], path);
    }
  });
}

Deno.test("i18n: Accept-Language picks, the lang cookie overrides, the footer switches", async () => {
  await using app = await startTestApp();
  const b = app.browser();
  assert.match(
    (await b.get("/login", { "accept-language": "ru-RU,ru;q=0.9" })).body,
    /<h1>Вход<\/h1>/,
  );
  assert.match(
    (await b.get("/login", { "accept-language": "de" })).body,
    /<h1>Sign in<\/h1>/,
  );

  const page = await b.get("/login?activated=1");
  assert.match(page.body, /<form method="post" action="\/lang"/);
  assert.match(page.body, /name="next" value="\/login\?activated=1"/);
  assert.match(
    page.body,
    /<button type="submit" name="lang" value="ru" lang="ru"/,
  );

  const res = await b.post("/lang", { lang: "ru", next: "/login?activated=1" });
  assert.equal(res.status, 303);
  assert.equal(res.location, "/login?activated=1");
  assert.match(
    res.headers.getSetCookie()[0],
    /^lang=ru;.*Path=\/.*SameSite=Lax/,
  );
  assert.match(
    (await b.get("/login", { "accept-language": "en" })).body,
    /<h1>Вход<\/h1>/,
  );

  for (
    const next of [
      "//evil.example/",
      "https://evil.example/",
      "/\\evil.example",
      // Browsers drop tabs and newlines from URLs: "/\t/x" would be "//x".
      "/\t/evil.example",
      "/\n/evil.example",
    ]
  ) {
    assert.equal((await b.post("/lang", { lang: "en", next })).location, "/");
  }
  // An unknown language changes nothing.
  const bad = await app.browser().post("/lang", { lang: "xx", next: "/login" });
  assert.equal(bad.headers.getSetCookie().length, 0);
});

Deno.test("i18n: mails go out in the language the person registered in", async () => {
  await using app = await startTestApp();
  const ru = { "accept-language": "ru" };
  const b = app.browser();
  await b.post("/register", {
    first_name: "Ада",
    email: "ada@example.com",
    password: GOOD_PASSWORD,
    password_confirm: GOOD_PASSWORD,
  }, ru);
  const [first] = await app.mailer.waitFor(1);
  assert.equal(first.subject, "Активируйте аккаунт в cloud-user");
  assert.match(first.text, /Здравствуйте, Ада!/);
  // A resend from an English page still writes in Russian.
  await app.browser().post("/activate/resend", { email: "ada@example.com" });
  const mails = await app.mailer.waitFor(2);
  assert.match(mails[1].text, /Здравствуйте, Ада!/);
  await b.post(linkPath(mails[1].text, "/activate/"));
  await app.browser().post("/password/forgot", { email: "ada@example.com" });
  app.clock.advance(REGISTER_AGAIN_MAIL_COOLDOWN_MS);
  await app.browser().register();
  await outboxDrained(app);
  const subjects = app.mailer.sent.slice(2).map((m) => m.subject).sort();
  assert.deepEqual(subjects, [
    "Кто-то пытался зарегистрироваться в cloud-user с вашим адресом",
    "Смена пароля в cloud-user",
  ]);
});

Deno.test("i18n: API errors speak the request's language", async () => {
  await using app = await startTestApp();
  const res = await app.browser().api("/api/login", { email: "x" }, {
    "accept-language": "ru",
  });
  assert.equal(res.status, 422);
  assert.equal(
    res.json.error.fields.email.message,
    "Укажите адрес вида name@example.com.",
  );
  assert.equal(res.json.error.fields.email.code, "email.invalid");
});
