// Every page a person can reach, in both languages, with a 60-letter name and
// a 60-character address, at 320 and 390 px: nothing may scroll sideways
// (scrollWidth <= innerWidth). A full-page shot of each at 390 px, and the
// two mails' HTML as a 390 px phone shows them, light and dark, go to
// e2e-screenshots/layout/.
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, SCREENSHOTS, startE2eApp } from "./support.ts";

const PASSWORD = "Correct horse battery 42!";
const OUT = `${SCREENSHOTS}/layout`;
const WIDTHS = [320, 390];
/** One word: the hardest case for wrapping. */
const LONG_NAME =
  "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft"
    .slice(0, 60);

/** A 60-character address, different per language. */
function longEmail(lang: string): string {
  const domain = "@example.com";
  const local = `${lang}.averyveryverylongmailboxnameforlayouttests`;
  return (local + "x".repeat(60)).slice(0, 60 - domain.length) + domain;
}

/** What sticks out past the right edge, for the failure message. */
function overflowAt(page: Page, width: number) {
  return page.evaluate((w) => {
    const doc = document.documentElement;
    if (doc.scrollWidth <= innerWidth) return null;
    const culprits = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5)
      .map((el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : ""))
      .slice(0, 5);
    return `${w}px: scrollWidth ${doc.scrollWidth} > ${innerWidth} (${
      culprits.join(", ")
    })`;
  }, width);
}

interface Walk {
  lang: string;
  failures: string[];
  shots: number;
}

async function check(page: Page, walk: Walk, name: string): Promise<void> {
  await page.waitForLoadState();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 720 });
    const problem = await overflowAt(page, width);
    if (problem) walk.failures.push(`${walk.lang} ${name} ${problem}`);
  }
  await page.screenshot({
    path: `${OUT}/${name}-${walk.lang}-390.png`,
    fullPage: true,
  });
  walk.shots++;
}

/** A mail's HTML part as a 390 px phone's mail app shows it. */
async function checkMail(
  browser: Browser,
  walk: Walk,
  name: string,
  html: string,
): Promise<void> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.setContent(html);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 720 });
    const problem = await overflowAt(page, width);
    if (problem) walk.failures.push(`${walk.lang} mail ${name} ${problem}`);
  }
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({
      path: `${OUT}/mail-${name}-${walk.lang}-390-${scheme}.png`,
      fullPage: true,
    });
    walk.shots++;
  }
  await context.close();
}

async function fillRegister(page: Page, name: string, email: string) {
  await page.goto("/register");
  await page.locator("#field-password + .reveal").waitFor();
  await page.fill("#field-first_name", name);
  await page.fill("#field-email", email);
  await page.fill("#field-password", PASSWORD);
  await page.fill("#field-password_confirm", PASSWORD);
  await page.locator('form[action="/register"] button[type=submit]').click();
  await page.waitForURL("**/register/done");
}

function submit(page: Page, action: string) {
  return page.locator(`form[action="${action}"] button[type=submit]`).click();
}

Deno.test({
  name:
    "e2e layout: no page scrolls sideways at 320 and 390 px, in either language",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await Deno.mkdir(OUT, { recursive: true });
    // A sign-in budget small enough that the walk meets a 429, with a wait
    // long enough to see the button count down.
    await using app = await startE2eApp({ RATE_LIMIT_EMAIL: "3/15m" });
    const browser = await launchChromium();
    let mails = 0;
    const failures: string[] = [];
    let shots = 0;
    try {
      for (const lang of ["en", "ru"]) {
        const walk: Walk = { lang, failures, shots: 0 };
        const email = longEmail(lang);
        const context: BrowserContext = await browser.newContext({
          baseURL: app.origin,
          locale: lang === "ru" ? "ru-RU" : "en-US",
        });
        const page = await context.newPage();

        await page.goto("/register");
        await page.locator("#field-password + .reveal").waitFor();
        assert.equal(await page.getAttribute("html", "lang"), lang);
        await check(page, walk, "register");
        await submit(page, "/register");
        await page.locator("#error-summary").waitFor();
        await check(page, walk, "register-errors");

        await fillRegister(page, LONG_NAME, email);
        await check(page, walk, "register-done");
        const activation = await app.mail(++mails);
        await checkMail(browser, walk, "activation", activation.html);

        // Someone else's pending account, opened here: the confirm page.
        const other = await browser.newContext({
          baseURL: app.origin,
          locale: lang === "ru" ? "ru-RU" : "en-US",
        });
        const otherPage = await other.newPage();
        await fillRegister(otherPage, LONG_NAME, `b${email.slice(1)}`);
        await other.close();
        await page.goto(await app.activationLink(++mails));
        await page.locator('form button[type="submit"]').first().waitFor();
        await check(page, walk, "activate");

        await page.goto(await app.activationLink(mails - 1));
        await page.waitForURL("**/account");
        await check(page, walk, "account");
        // The new pair is checked in the page; a wrong current password only
        // the server can tell.
        await page.locator("#field-password + .reveal").waitFor();
        await page.fill("#field-current_password", "not the password at all");
        await page.fill("#field-password", `${PASSWORD} new`);
        await page.fill("#field-password_confirm", `${PASSWORD} new`);
        await submit(page, "/account/password");
        await page.waitForURL("**/account/password");
        await check(page, walk, "account-errors");

        await page.locator('form[action="/logout"] button').first().click();
        await page.waitForURL("**/login");
        await check(page, walk, "login");

        await page.goto("/login");
        await page.fill("#field-email", email);
        await page.fill("#field-password", "not the password at all");
        await submit(page, "/login");
        await page.locator("#error-summary").waitFor();
        await check(page, walk, "login-failed");
        for (let i = 0; i < 5; i++) {
          const res = await page.request.post("/login", {
            form: { email, password: "still not the password" },
            headers: { origin: app.origin },
            maxRedirects: 0,
          });
          if (res.status() === 429) break;
        }
        await page.goto("/login");
        await page.fill("#field-email", email);
        await page.fill("#field-password", "not the password again");
        await submit(page, "/login");
        await page.waitForLoadState();
        // Refused: the same form, the address kept, the button counting down.
        assert.equal(await page.inputValue("#field-email"), email);
        const wait = page.locator('form[action="/login"] button[type=submit]');
        await page.waitForFunction(() =>
          document.querySelector<HTMLButtonElement>(
            'form[action="/login"] button[type=submit]',
          )?.disabled
        );
        assert.match(
          await wait.textContent() ?? "",
          lang === "en"
            ? /^Try again in \d+:\d\d$/
            : /^Повторить через \d+:\d\d$/,
        );
        await check(page, walk, "too-many");

        await page.goto("/password/forgot");
        await check(page, walk, "forgot");
        await page.fill("#field-email", email);
        await submit(page, "/password/forgot");
        await page.waitForURL("**/password/forgot/sent");
        await check(page, walk, "forgot-sent");
        const reset = await app.mail(++mails);
        await checkMail(browser, walk, "password-reset", reset.html);
        const resetLink = reset.text.match(
          /https?:\/\/\S+\/password\/reset\/\S+/,
        )
          ?.[0];
        assert.ok(resetLink, reset.text);
        await page.goto(resetLink);
        await check(page, walk, "reset");

        await page.goto("/activate/resend");
        await check(page, walk, "resend");
        await page.goto("/activate/not-a-token");
        await check(page, walk, "activate-invalid");
        await page.goto("/no/such/page");
        await check(page, walk, "not-found");

        shots += walk.shots;
        await context.close();
      }
    } finally {
      await browser.close();
    }
    console.log(`${shots} screenshots in ${OUT}`);
    assert.deepEqual(failures, []);
  },
});
