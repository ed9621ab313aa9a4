// The email change in headless Chromium against the real server process: the
// account page's link, the form (a wrong password, then the right one), the
// link mailed (over SMTP) to the NEW address, its page and button, the new
// address on the account page; then the notice mailed to the OLD address,
// whose link restores it with a new password. axe-core and screenshots on
// every page it reaches.
import assert from "node:assert/strict";
import {
  checkPage,
  launchChromium,
  linkIn,
  registerAndActivate,
  SCREENSHOTS,
  startE2eApp,
} from "./support.ts";

const PASSWORD = "Correct horse battery 42!";
const NEW_PASSWORD = "Another staple, lighthouse 7?";
const OLD_EMAIL = "ada.old@example.com";
const NEW_EMAIL = "ada.new@example.org";

Deno.test({
  name:
    "e2e: change the email address through the new inbox, then undo it from the old one",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using app = await startE2eApp();
    console.log(`screenshots in ${SCREENSHOTS}`);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ baseURL: app.origin });
      const page = await context.newPage();
      let mails = 0;

      await t.step("1. register and activate", async () => {
        await registerAndActivate(page, app, {
          email: OLD_EMAIL,
          password: PASSWORD,
          mail: ++mails,
        });
      });

      await t.step(
        "2. the form: a wrong password, then the right one",
        async () => {
          await page.getByRole("link", { name: "Change", exact: true }).click();
          await page.waitForURL("**/account/email");
          assert.match(await page.textContent("main") ?? "", /ada\.old@/);
          await checkPage(page, "email-change");
          await page.fill("#field-email", NEW_EMAIL);
          await page.fill("#field-current_password", "not the password");
          await page.getByRole("button", { name: "Email me a link" }).click();
          await page.locator("#error-summary").waitFor();
          // What was typed stays, but never the password.
          assert.equal(await page.inputValue("#field-email"), NEW_EMAIL);
          assert.equal(await page.inputValue("#field-current_password"), "");
          await checkPage(page, "email-change-errors");
          await page.fill("#field-current_password", PASSWORD);
          await page.getByRole("button", { name: "Email me a link" }).click();
          await page.waitForURL("**/account/email/sent");
          assert.equal(await page.textContent("h1"), "Check the new inbox");
          await checkPage(page, "email-change-sent");
        },
      );

      await t.step(
        "3. the new inbox's link: a page, its button, the new address",
        async () => {
          const mail = await app.mail(++mails);
          assert.deepEqual(mail.rcptTo, [NEW_EMAIL]);
          assert.equal(mail.subject, "Confirm your new cloud-user address");
          const link = linkIn(mail.text, "/account/email/confirm/");
          // Opening the link changes nothing by itself (mail scanners open
          // links): the account still has the old address.
          const res = await page.goto(link);
          assert.equal(res?.status(), 200);
          assert.equal(
            await page.textContent("h1"),
            "Confirm your new address",
          );
          assert.match(await page.textContent("main") ?? "", /ada\.new@/);
          // Signed in to the account: one button, no password asked.
          assert.equal(
            await page.locator("#field-current_password").count(),
            0,
          );
          await checkPage(page, "email-confirm");
          await page.goto("/account");
          assert.match(await page.textContent("main") ?? "", /ada\.old@/);

          await page.goto(link);
          await page.getByRole("button", { name: "Confirm the new address" })
            .click();
          await page.waitForURL("**/account");
          await page.getByText("Your email address is changed.").waitFor();
          const main = await page.textContent("main") ?? "";
          assert.match(main, /ada\.new@example\.org/);
          assert.doesNotMatch(main, /ada\.old@example\.com/);
          await checkPage(page, "account-email-changed");

          // The link works once.
          const again = await page.goto(link);
          assert.equal(again?.status(), 400);
          assert.equal(await page.textContent("h1"), "This link does not work");
          await checkPage(page, "email-confirm-used");
        },
      );

      await t.step(
        "4. the old inbox's notice: its link restores it with a new password",
        async () => {
          const notice = await app.mail(++mails);
          assert.deepEqual(notice.rcptTo, [OLD_EMAIL]);
          assert.equal(
            notice.subject,
            "The address of your cloud-user account was changed",
          );
          const link = linkIn(notice.text, "/account/email/undo/");
          await page.goto(link);
          assert.equal(await page.textContent("h1"), "Take your account back");
          assert.match(await page.textContent("main") ?? "", /ada\.old@/);
          // The NewPassword island: the pair, with its live checks.
          await page.locator("#field-password + .reveal").waitFor();
          await checkPage(page, "email-undo");
          await page.fill("#field-password", NEW_PASSWORD);
          await page.fill("#field-password_confirm", NEW_PASSWORD);
          await page.getByRole("button", { name: "Restore the address" })
            .click();
          await page.waitForURL("**/account");
          await page.getByText("Your address is restored").waitFor();
          const main = await page.textContent("main") ?? "";
          assert.match(main, /ada\.old@example\.com/);
          assert.doesNotMatch(main, /ada\.new@example\.org/);
          await checkPage(page, "account-email-restored");
        },
      );

      await t.step(
        "5. the old address signs in with the new password only",
        async () => {
          await page.getByRole("button", { name: "Sign out" }).click();
          await page.waitForURL("**/login");
          await page.fill("#field-email", OLD_EMAIL);
          await page.fill("#field-password", PASSWORD);
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.locator("#error-summary").waitFor();
          await page.fill("#field-email", OLD_EMAIL);
          await page.fill("#field-password", NEW_PASSWORD);
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.waitForURL("**/account");
          assert.match(
            await page.textContent("main") ?? "",
            /ada\.old@example\.com/,
          );
        },
      );
    } finally {
      await browser.close();
    }
  },
});
