// Export and deletion in headless Chromium against the real server process:
// the account page's links, the download, the password form, the mailed
// link (over SMTP), its page and button, the goodbye; axe-core and
// screenshots on every new page.
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
const EMAIL = "ada.e2e@example.com";

Deno.test({
  name:
    "e2e: download my data, then delete the account through the mailed link",
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
          email: EMAIL,
          password: PASSWORD,
          mail: ++mails,
        });
      });

      await t.step(
        "2. the account page's link downloads the data",
        async () => {
          await checkPage(page, "account-your-data");
          const [download] = await Promise.all([
            page.waitForEvent("download"),
            page.getByRole("link", { name: "Download my data (JSON)" }).click(),
          ]);
          assert.match(
            download.suggestedFilename(),
            /^cloud-user-data-.*\.json$/,
          );
          const path = await download.path();
          const data = JSON.parse(await Deno.readTextFile(path!));
          assert.equal(data.records.users[0].email, EMAIL);
          assert.doesNotMatch(JSON.stringify(data), /argon2/);
        },
      );

      await t.step("3. the password, then a mail with the link", async () => {
        await page.getByRole("link", { name: "Delete my account" }).click();
        await page.waitForURL("**/account/delete");
        await checkPage(page, "delete");
        await page.fill("#field-current_password", "not the password");
        await page.getByRole("button", { name: "Send the confirmation link" })
          .click();
        await page.locator("#error-summary").waitFor();
        await checkPage(page, "delete-errors");
        await page.fill("#field-current_password", PASSWORD);
        await page.getByRole("button", { name: "Send the confirmation link" })
          .click();
        await page.waitForURL("**/account/delete/sent");
        await checkPage(page, "delete-sent");
      });

      await t.step("4. the link's page, its button, the goodbye", async () => {
        const mail = await app.mail(++mails);
        assert.equal(mail.subject, "Confirm deleting your cloud-user account");
        await page.goto(linkIn(mail.text, "/account/delete/"));
        await checkPage(page, "delete-confirm");
        assert.ok(await page.getByText(EMAIL).count());
        await page.getByRole("button", { name: "Delete my account" }).click();
        await page.waitForURL("**/account/deleted");
        await checkPage(page, "deleted");
        assert.equal(
          (await context.cookies()).some((c) => c.name === "session"),
          false,
        );
        const goodbye = await app.mail(++mails);
        assert.equal(goodbye.subject, "Your cloud-user account is deleted");
        await page.goto("/account");
        await page.waitForURL("**/login");
      });
    } finally {
      await browser.close();
    }
  },
});
