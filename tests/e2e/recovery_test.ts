// Recovery pages in Chromium: a replaced and a broken activation link say
// what happened, and a new link is one press (then a calm countdown, not an
// error); the welcome on arrival; the new-password pair's live mismatch check
// on the reset page and the used link's page; a failed sign-in's one-press
// resend; switching language keeps what was typed (never the password).
// axe and screenshots (light, dark, phone) on every page it reaches.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  checkPage,
  launchChromium,
  RESEND_INTERVAL_S,
  SCREENSHOTS,
  startE2eApp,
} from "./support.ts";

const PASSWORD = "Correct horse battery 42!";

async function register(page: Page, name: string, email: string) {
  await page.goto("/register");
  await page.locator("#field-password + .reveal").waitFor();
  await page.fill("#field-first_name", name);
  await page.fill("#field-email", email);
  await page.fill("#field-password", PASSWORD);
  await page.fill("#field-password_confirm", PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/register/done");
}

Deno.test({
  name: "e2e recovery: dead links, a new link in one press, the welcome",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using app = await startE2eApp();
    console.log(`screenshots in ${SCREENSHOTS}`);
    const browser = await launchChromium();
    let mails = 0;
    try {
      const context = await browser.newContext({ baseURL: app.origin });
      const page = await context.newPage();

      await t.step(
        "switching language keeps the name and address",
        async () => {
          await page.goto("/register");
          await page.locator("#field-password + .reveal").waitFor();
          await page.fill("#field-first_name", "Grace");
          await page.fill("#field-email", "grace@example.com");
          await page.fill("#field-password", PASSWORD);
          await page.locator("form.lang-switcher button[lang=ru]").click();
          await page.waitForSelector("html[lang=ru]");
          await page.locator("#field-password + .reveal").waitFor();
          assert.equal(await page.inputValue("#field-first_name"), "Grace");
          assert.equal(
            await page.inputValue("#field-email"),
            "grace@example.com",
          );
          assert.equal(await page.inputValue("#field-password"), "");
          await page.locator("form.lang-switcher button[lang=en]").click();
          await page.waitForSelector("html[lang=en]");
        },
      );

      let first = "";
      await t.step(
        "a replaced link says so and renews in one press",
        async () => {
          await register(page, "Grace", "grace@example.com");
          first = await app.activationLink(++mails);
          // A second link (pressed on the done page) replaces the first.
          await page.locator(".resend-status").waitFor({ state: "attached" });
          await page.locator('form[action="/activate/resend"] button').click();
          await page.waitForFunction(() =>
            document.querySelector(".resend-status")?.textContent !== ""
          );
          await app.activationLink(++mails);

          const res = await page.goto(first);
          assert.equal(res?.status(), 400);
          assert.equal(
            await page.textContent("h1"),
            "A newer link replaced this one",
          );
          assert.match(await page.textContent("main") ?? "", /g…@example\.com/);
          assert.equal(await page.locator("main input[type=email]").count(), 0);
          await checkPage(page, "activate-replaced");

          // Once RESEND_INTERVAL has passed since the done page's press, one
          // press mails a fresh link.
          await page.waitForTimeout(RESEND_INTERVAL_S * 1000);
          await page.getByRole("button", { name: "Send me a new link" })
            .click();
          await page.waitForURL("**/activate/sent");
          await app.activationLink(++mails);

          // Pressed again within RESEND_INTERVAL: the same page, calmly
          // counting down instead of an error.
          await page.goto(first);
          await page.getByRole("button", { name: "Send me a new link" })
            .click();
          await page.waitForURL("**/activate/renew");
          assert.match(
            await page.textContent("main") ?? "",
            /A new link can be sent in 0:0\d\./,
          );
          await page.waitForFunction(() =>
            document.querySelector<HTMLButtonElement>(
              "main button[type=submit]",
            )?.disabled
          );
          assert.match(
            await page.textContent("main button[type=submit]") ?? "",
            /^Send a new link in 0:0\d$/,
          );
          await checkPage(page, "activate-renew-wait");
        },
      );

      await t.step("a broken link says it is incomplete", async () => {
        const res = await page.goto(first.slice(0, -4));
        assert.equal(res?.status(), 400);
        assert.equal(
          await page.textContent("h1"),
          "This activation link is incomplete",
        );
        assert.equal(await page.textContent("h2"), "Ask for a new link");
        await checkPage(page, "activate-broken");
      });

      await t.step(
        "the newest link activates, and the account welcomes",
        async () => {
          await page.goto(await app.activationLink(mails));
          await page.waitForURL("**/account");
          await page.getByText("Your account is active").waitFor();
          await checkPage(page, "account-welcome");
        },
      );

      await t.step(
        "the reset page checks the pair live; a used link says so",
        async () => {
          await page.locator('form[action="/logout"] button').click();
          await page.waitForURL("**/login");
          await page.goto("/password/forgot");
          await page.fill("#field-email", "grace@example.com");
          await page.getByRole("button", { name: "Email me a link" }).click();
          await page.waitForURL("**/password/forgot/sent");
          const mail = await app.mail(++mails);
          const link = /http\S+\/password\/reset\/\S+/.exec(mail.text)![0];
          await page.goto(link);
          await page.locator("#field-password + .reveal").waitFor();
          await page.fill("#field-password", `${PASSWORD}?`);
          await page.fill("#field-password_confirm", `${PASSWORD}!`);
          await page.locator("#field-password_confirm").blur();
          await page.locator("#field-password_confirm-error").waitFor();
          // A submit with the mismatch stays in the page.
          await page.getByRole("button", { name: "Save the new password" })
            .click();
          assert.equal(new URL(page.url()).pathname, new URL(link).pathname);
          await checkPage(page, "reset-mismatch");
          await page.fill("#field-password_confirm", `${PASSWORD}?`);
          assert.equal(
            await page.locator("#field-password_confirm-error").count(),
            0,
          );
          await page.getByRole("button", { name: "Save the new password" })
            .click();
          await page.waitForURL("**/account");

          await page.goto(link);
          assert.equal(
            await page.textContent("h1"),
            "This reset link has been used",
          );
          await checkPage(page, "reset-used");
        },
      );
      await context.close();

      await t.step(
        "a failed sign-in offers a new link in its message",
        async () => {
          const other = await browser.newContext({ baseURL: app.origin });
          const p = await other.newPage();
          await register(p, "Hedy", "hedy@example.com");
          await app.mail(++mails);
          await p.goto("/login");
          await p.fill("#field-email", "hedy@example.com");
          await p.fill("#field-password", "not the password at all");
          await p.getByRole("button", { name: "Sign in" }).click();
          await p.locator("#error-summary").waitFor();
          await p.locator(".resend-status").waitFor({ state: "attached" });
          await p.locator("#error-summary button").click();
          await p.waitForFunction(() =>
            document.querySelector(".resend-status")?.textContent !== ""
          );
          assert.equal(new URL(p.url()).pathname, "/login");
          await checkPage(p, "login-failed-resend");
          await other.close();
        },
      );
    } finally {
      await browser.close();
    }
  },
});
