// The mails as a person's phone shows them: the app's name or logo, its
// indigo, a footer that says why the mail came, and a mobile viewport.
import assert from "node:assert/strict";
import { startTestApp } from "../helpers.ts";

Deno.test("mail: the HTML part is branded, phone-ready, and says why it came", async () => {
  await using app = await startTestApp({ env: { APP_NAME: "Acme Notes" } });
  await app.browser().register({ first_name: "Ada" });
  const [mail] = await app.mailer.waitFor(1);
  assert.match(
    mail.html,
    /<meta name="viewport" content="width=device-width, initial-scale=1">/,
  );
  assert.match(mail.html, /<meta name="color-scheme" content="light dark">/);
  assert.match(mail.html, /@media \(prefers-color-scheme: dark\)/);
  // The app's indigo, not another blue.
  assert.match(mail.html, /background:#4338ca/);
  assert.doesNotMatch(mail.html, /#2557d6/);
  // No logo configured: the name is the header.
  assert.match(mail.html, /&nbsp;&nbsp;Acme Notes<\/td>/);
  assert.doesNotMatch(mail.html, /<img/);
  assert.match(
    mail.html,
    /this address was used to sign up at Acme Notes\.<br><a href="http:\/\/app\.test"/,
  );
  assert.match(mail.html, /Hello Ada,/);
  // The plain-text part carries the same footer.
  assert.match(
    mail.text,
    /\n--\nYou are getting this email because this address was used to sign up at Acme Notes\.\nAcme Notes · http:\/\/app\.test\n$/,
  );
});

Deno.test("mail: APP_LOGO_URL puts the logo on top, named for screen readers", async () => {
  await using app = await startTestApp({
    env: { APP_LOGO_URL: "https://cdn.example/logo.png?a=1&b=2" },
  });
  await app.browser().register();
  const [mail] = await app.mailer.waitFor(1);
  assert.match(
    mail.html,
    /<img src="https:\/\/cdn\.example\/logo\.png\?a=1&amp;b=2" alt="cloud-user" height="32"/,
  );
});

Deno.test("mail: the Russian mails start sentences with capitals and end them with full stops", async () => {
  await using app = await startTestApp();
  await app.browser().post("/register", {
    first_name: "Иван",
    email: "ivan@example.com",
    password: "correct horse battery",
    password_confirm: "correct horse battery",
  }, { "accept-language": "ru" });
  const [mail] = await app.mailer.waitFor(1);
  for (const part of [mail.text, mail.html]) {
    assert.match(part, /Здравствуйте, Иван!/);
    assert.match(part, /Спасибо за регистрацию/);
    assert.doesNotMatch(part, /[!.]\s*(<\/h1>\s*<p[^>]*>)?спасибо/);
  }
  assert.match(mail.html, /<html lang="ru">/);
  assert.match(mail.text, /регистрации в cloud-user\.\ncloud-user · /);
});
