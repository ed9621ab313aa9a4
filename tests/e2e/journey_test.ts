// The whole journey in headless Chromium against the real server process:
// register (live validation), the mail over SMTP, activation, sign-in; the
// same without JavaScript and from a browser that did not register; a new
// link sent in place with its countdown; the keyboard alone; an address
// registered twice; the sessions page signing a phone out; axe-core and
// screenshots on every page.
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { checkResend } from "./resend_step.ts";
import {
  checkPage,
  launchChromium,
  SCREENSHOTS,
  startE2eApp,
} from "./support.ts";

const PASSWORD = "Correct horse battery 42!";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

async function hasSession(context: BrowserContext): Promise<boolean> {
  return (await context.cookies()).some((c) => c.name === "session");
}

/** The visible text of a field's message, or null when it has none. */
async function fieldError(page: Page, name: string) {
  const error = page.locator(`#field-${name}-error`);
  return await error.count() ? await error.textContent() : null;
}

Deno.test({
  name: "e2e: register, get the mail, activate and arrive signed in",
  // Playwright keeps its connection's timers and pipes open between calls.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using app = await startE2eApp();
    console.log(
      `app up in ${app.startupMs} ms; screenshots in ${SCREENSHOTS}`,
    );
    const browser = await launchChromium();
    try {
      const registrant = await browser.newContext({ baseURL: app.origin });
      const page = await registrant.newPage();
      let mails = 0;

      await t.step("1. the form validates live and submits", async () => {
        await page.goto("/register");
        await checkPage(page, "register");
        // Hydrated: the show/hide toggle only appears with JavaScript.
        await page.locator("#field-password + .reveal").waitFor();

        // A submit with errors is stopped in the browser; the summary
        // takes focus.
        await page.getByRole("button", { name: "Create account" }).click();
        assert.equal(new URL(page.url()).pathname, "/register");
        await page.locator("#error-summary:focus").waitFor();
        assert.equal(
          await fieldError(page, "first_name"),
          "Enter your first name.",
        );
        // Fixed fields leave the summary as they are fixed.
        const summary = page.locator("#error-summary");
        await page.fill("#field-first_name", "Ada");
        assert.equal(
          await summary.getByText("Enter your first name.").count(),
          0,
        );
        assert.equal(await summary.getByText("Enter your email").count(), 1);

        await page.reload();
        await page.locator("#field-password + .reveal").waitFor();
        // Tabbing through empty fields marks none of them.
        await page.focus("#field-first_name");
        await page.keyboard.press("Tab");
        await page.keyboard.press("Tab");
        assert.equal(await fieldError(page, "first_name"), null);
        assert.equal(await fieldError(page, "email"), null);
        await page.fill("#field-first_name", "Ada");
        await page.fill("#field-email", "ada@");
        assert.equal(await fieldError(page, "email"), null); // not yet left
        await page.press("#field-email", "Tab");
        assert.equal(
          await fieldError(page, "email"),
          "Enter an email address like name@example.com.",
        );
        assert.equal(
          await page.getAttribute("#field-email", "aria-invalid"),
          "true",
        );
        await page.fill("#field-email", "ada@example.com");
        assert.equal(await fieldError(page, "email"), null); // fixed as typed

        await page.fill("#field-password", "qwertyuiop");
        await page.press("#field-password", "Tab");
        assert.match(
          await fieldError(page, "password") ?? "",
          /one of the most common/,
        );
        assert.equal(
          await page.textContent("#field-password-meter .meter-text"),
          "Strength: too weak",
        );
        await page.fill("#field-password", PASSWORD);
        assert.equal(await fieldError(page, "password"), null);
        assert.equal(
          await page.textContent("#field-password-meter .meter-text"),
          "Strength: strong",
        );
        await page.click("#field-password + .reveal");
        assert.equal(
          await page.getAttribute("#field-password", "type"),
          "text",
        );
        // The toggle says what the next press does.
        assert.equal(
          await page.textContent("#field-password + .reveal"),
          "Hide",
        );
        await page.click("#field-password + .reveal");
        assert.equal(
          await page.getAttribute("#field-password", "type"),
          "password",
        );

        await page.fill("#field-password_confirm", "something else");
        await page.press("#field-password_confirm", "Tab");
        assert.equal(
          await fieldError(page, "password_confirm"),
          "The two passwords do not match.",
        );
        await checkPage(page, "register-live-errors");
        await page.fill("#field-password_confirm", PASSWORD);
        assert.equal(await fieldError(page, "password_confirm"), null);

        await page.getByRole("button", { name: "Create account" }).click();
        await page.waitForURL("**/register/done");
        await checkPage(page, "register-done");
      });

      let link = "";
      await t.step(
        "2. the SMTP server receives the mail with the link",
        async () => {
          link = await app.activationLink(++mails);
          assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/activate\/\S+$/);
        },
      );

      await t.step(
        "3. the link opens signed in, in the same browser",
        async () => {
          await page.goto(link);
          await page.waitForURL("**/account");
          assert.equal(await page.textContent("h1"), "Hello, Ada!");
          assert.equal(
            await page.textContent("[data-testid=first-name]"),
            "Ada",
          );
          assert.ok(await hasSession(registrant));
          await checkPage(page, "account");
        },
      );

      await t.step(
        "4. the link again: already active, nobody else signed in",
        async () => {
          await page.goto(link);
          // Still Ada: the used link did not sign this browser in as anyone.
          assert.equal(
            await page.textContent("[data-testid=first-name]"),
            "Ada",
          );

          const stranger = await browser.newContext({ baseURL: app.origin });
          const other = await stranger.newPage();
          await other.goto(link);
          await other.waitForURL("**/login?activated=1");
          await other.getByText("Your account is already active").waitFor();
          assert.equal(await hasSession(stranger), false);
          await checkPage(other, "login-already-active");
          await stranger.close();
        },
      );

      await t.step(
        "5a. without JavaScript the person presses the button",
        async () => {
          const noJs = await browser.newContext({
            baseURL: app.origin,
            javaScriptEnabled: false,
          });
          const p = await noJs.newPage();
          await p.goto("/register");
          assert.equal(await p.locator(".reveal").first().isVisible(), false);
          await p.getByRole("button", { name: "Create account" }).click();
          // The server answers; its summary has taken focus (autofocus).
          await p.locator("#error-summary:focus").waitFor();
          assert.equal(
            await fieldError(p, "email"),
            "Enter your email address.",
          );
          await p.fill("#field-first_name", "Grace");
          await p.fill("#field-email", "grace@example.com");
          await p.fill("#field-password", PASSWORD);
          await p.fill("#field-password_confirm", PASSWORD);
          await p.getByRole("button", { name: "Create account" }).click();
          await p.waitForURL("**/register/done");

          const graceLink = await app.activationLink(++mails);
          await p.goto(graceLink);
          await p.waitForTimeout(300);
          assert.equal(p.url(), graceLink); // no script, no submit
          assert.equal(await hasSession(noJs), false);
          await p.getByRole("button", { name: "Activate my account" }).click();
          await p.waitForURL("**/account");
          assert.equal(
            await p.textContent("[data-testid=first-name]"),
            "Grace",
          );
          await noJs.close();
        },
      );

      await t.step(
        "5b. a browser that did not register asks for the password",
        async () => {
          const p = await registrant.newPage();
          await page.getByRole("button", { name: "Sign out" }).first().click();
          await page.waitForURL("**/login");
          await p.goto("/register");
          await p.locator("#field-password + .reveal").waitFor();
          await p.fill("#field-first_name", "Linus");
          await p.fill("#field-email", "linus@example.com");
          await p.fill("#field-password", PASSWORD);
          await p.fill("#field-password_confirm", PASSWORD);
          await p.getByRole("button", { name: "Create account" }).click();
          await p.waitForURL("**/register/done");
          const linusLink = await app.activationLink(++mails);

          const elsewhere = await browser.newContext({ baseURL: app.origin });
          const q = await elsewhere.newPage();
          await q.goto(linusLink);
          // The address, and the password chosen when registering (or a
          // new one): a link alone never signs a browser in.
          await q.getByText("activating the account for linus@example.com")
            .waitFor();
          await checkPage(q, "activate-password");
          await q.waitForTimeout(500);
          assert.equal(q.url(), linusLink);
          assert.equal(await hasSession(elsewhere), false);
          await q.fill("#field-current_password", "not Linus's password");
          await q.getByRole("button", { name: "Activate and sign in" }).click();
          await q.getByText("not the password this account was registered with")
            .waitFor();
          assert.equal(await hasSession(elsewhere), false);
          await q.fill("#field-current_password", PASSWORD);
          await q.getByRole("button", { name: "Activate and sign in" }).click();
          await q.waitForURL("**/account");
          assert.equal(
            await q.textContent("[data-testid=first-name]"),
            "Linus",
          );
          await elsewhere.close();
        },
      );

      await t.step(
        "5c. a new link from /register/done, then a wait the server sets",
        async () => {
          await checkResend(browser, app, ++mails);
          mails++;
        },
      );

      await t.step(
        "6. the registration form with the keyboard alone",
        async () => {
          const keys = await browser.newContext({ baseURL: app.origin });
          const p = await keys.newPage();
          await p.goto("/register");
          await p.locator("#field-password + .reveal").waitFor();
          const focused = () =>
            p.evaluate(() => {
              const el = document.activeElement as HTMLElement | null;
              return el?.id || el?.textContent?.trim() || el?.tagName || "";
            });
          await p.keyboard.press("Tab");
          assert.equal(await focused(), "Skip to content");
          const ring = await p.evaluate(() =>
            getComputedStyle(document.activeElement!).outlineStyle
          );
          assert.notEqual(ring, "none");
          await p.keyboard.press("Enter");
          await p.keyboard.press("Tab");
          assert.equal(await focused(), "field-first_name");
          await p.keyboard.type("Katherine");
          await p.keyboard.press("Tab");
          assert.equal(await focused(), "field-email");
          await p.keyboard.type("katherine@example.com");
          await p.keyboard.press("Tab");
          assert.equal(await focused(), "field-password");
          await p.keyboard.type(PASSWORD);
          await p.keyboard.press("Tab");
          assert.equal(await focused(), "Show"); // the show/hide toggle
          await p.keyboard.press("Space");
          assert.equal(await p.getAttribute("#field-password", "type"), "text");
          await p.keyboard.press("Tab");
          assert.equal(await focused(), "field-password_confirm");
          await p.keyboard.type(PASSWORD);
          await p.keyboard.press("Tab"); // its toggle
          await p.keyboard.press("Tab");
          assert.equal(await focused(), "Create account");
          await p.keyboard.press("Enter");
          await p.waitForURL("**/register/done");
          await app.activationLink(++mails); // counted, for step 8's mails
          await keys.close();
        },
      );

      await t.step("7. the remaining pages pass axe too", async () => {
        const p = await registrant.newPage();
        await p.goto("/login");
        await checkPage(p, "login");
        // The server's answer to a bad form, rendered with its errors.
        await p.goto("/register");
        await p.locator('form[action="/register"]').evaluate((
          f: HTMLFormElement,
        ) => f.submit());
        await p.waitForLoadState();
        await p.locator("#error-summary").waitFor();
        await checkPage(p, "register-errors");
        const notFound = await p.goto("/no/such/page");
        assert.equal(notFound?.status(), 404);
        await checkPage(p, "not-found");
        const bad = await p.goto("/activate/not-a-token");
        assert.equal(bad?.status(), 400);
        await checkPage(p, "activate-invalid");
      });

      await t.step(
        "8. an address registered twice asks its mailbox for the password",
        async () => {
          const register = async (context: BrowserContext, pw: string) => {
            const p = await context.newPage();
            await p.goto("/register");
            await p.fill("#field-first_name", "Lin");
            await p.fill("#field-email", "lin@example.com");
            await p.fill("#field-password", pw);
            await p.fill("#field-password_confirm", pw);
            await p.getByRole("button", { name: "Create account" }).click();
            await p.waitForURL("**/register/done");
          };
          const owner = await browser.newContext({ baseURL: app.origin });
          const other = await browser.newContext({ baseURL: app.origin });
          await register(owner, PASSWORD);
          await app.activationLink(++mails);
          // Someone registers the address again (the link above still
          // works, but asks for a new password); the owner asks for a link.
          await register(other, "Somebody else's 42 words");
          const resent = await owner.request.post("/api/activation/resend", {
            data: { email: "lin@example.com" },
          });
          assert.equal(resent.status(), 202);
          const lin = await app.activationLink(++mails);

          const p = await owner.newPage();
          await p.goto(lin);
          await p.getByText("registered more than once").waitFor();
          assert.equal(await hasSession(owner), false);
          await checkPage(p, "activate-choose-password");
          await p.fill("#field-password", "Lin's own 42 phrase!");
          await p.fill("#field-password_confirm", "Lin's own 42 phrase!");
          await p.getByRole("button", {
            name: "Activate and save the password",
          })
            .click();
          await p.waitForURL("**/account");
          assert.equal(
            await p.textContent("[data-testid=first-name]"),
            "Lin",
          );
          assert.ok(await hasSession(owner));
          await owner.close();
          await other.close();
        },
      );

      await t.step(
        "9. the sessions page lists Ada's devices and signs one out",
        async () => {
          const signIn = async (context: BrowserContext) => {
            const p = await context.newPage();
            await p.goto("/login");
            await p.fill("#field-email", "ada@example.com");
            await p.fill("#field-password", PASSWORD);
            await p.getByRole("button", { name: "Sign in" }).click();
            await p.waitForURL("**/account");
            return p;
          };
          // With JavaScript on: axe awaits a promise in page.evaluate, and
          // with scripts off that run hung until killed (27 minutes; cf.
          // microsoft/playwright#9544). The page has no script either way
          // (tests/routes/sessions_test.ts checks), so it is the same page.
          const laptop = await browser.newContext({ baseURL: app.origin });
          const phone = await browser.newContext({
            baseURL: app.origin,
            userAgent: IPHONE,
          });
          const p = await signIn(laptop);
          const q = await signIn(phone);
          await p.getByRole("link", { name: /See where you are signed in/ })
            .click();
          await p.waitForURL("**/account/sessions");
          const sessions = p.locator("[data-testid=session]");
          assert.equal(await sessions.count(), 2);
          assert.match(
            await sessions.first().textContent() ?? "",
            /Chrom.*This device/,
          );
          await checkPage(p, "sessions");
          await p.getByRole("button", { name: "Sign out Safari 17 on iOS" })
            .click();
          await p.waitForURL("**/account/sessions");
          await p.getByText("That device is signed out.").waitFor();
          assert.equal(await sessions.count(), 1);
          // The phone's cookie stays in its jar; the server knows it no more.
          await q.reload();
          await q.waitForURL("**/login");
          const me = await phone.request.get("/api/me");
          assert.equal(me.status(), 401);
          await p.goto("/account");
          await p.getByText("Signed out a device: Safari 17 on iOS").waitFor();
          await checkPage(p, "account-events");
          await laptop.close();
          await phone.close();
        },
      );
      await registrant.close();
    } finally {
      await browser.close();
    }
  },
});
