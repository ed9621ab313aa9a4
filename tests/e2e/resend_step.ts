// The journey's resend step: "Send a new link" on /register/done sends in
// place, waits as long as the server will (after a success and after a 429),
// and the new mail's link works while the first one no longer does.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { checkPage, type E2eApp, RESEND_INTERVAL_S } from "./support.ts";

const PASSWORD = "Correct horse battery 42!";
const NEUTRAL =
  "If an account at that address is waiting for activation, a new link is on its way.";

function button(page: Page) {
  return page.locator('form[action="/activate/resend"] button[type=submit]');
}

async function status(page: Page) {
  return (await page.textContent(".resend-status"))?.trim() ?? "";
}

/** Presses "Send a new link" for `email` and waits for the answer in place. */
async function pressResend(page: Page, email: string) {
  // Hydrated: the status line only exists where the button sends in place.
  await page.locator(".resend-status").waitFor({ state: "attached" });
  await page.fill("#resend-email", email);
  await button(page).click();
  await page.waitForFunction(() =>
    document.querySelector(".resend-status")?.textContent !== ""
  );
}

/** Seconds the button says are left, from "Send a new link in 0:05". */
async function secondsLeft(page: Page): Promise<number> {
  const label = await button(page).textContent() ?? "";
  const match = /in (\d+):(\d\d)$/.exec(label);
  assert.ok(match, `a countdown in "${label}"`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** `nth`: the number the registration's mail will have at the SMTP server. */
export async function checkResend(browser: Browser, app: E2eApp, nth: number) {
  const context = await browser.newContext({ baseURL: app.origin });
  const page = await context.newPage();
  await page.goto("/register");
  await page.locator("#field-password + .reveal").waitFor();
  await page.fill("#field-first_name", "Barbara");
  await page.fill("#field-email", "barbara@example.com");
  await page.fill("#field-password", PASSWORD);
  await page.fill("#field-password_confirm", PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/register/done");
  const first = await app.activationLink(nth);

  // Sent in place: the neutral answer, the button waits the server's time.
  await pressResend(page, "barbara@example.com");
  assert.equal(new URL(page.url()).pathname, "/register/done");
  assert.match(await status(page), new RegExp(`^${NEUTRAL} You can ask`));
  assert.ok(await button(page).isDisabled());
  const left = await secondsLeft(page);
  assert.ok(left > 0 && left <= RESEND_INTERVAL_S, `${left} s left`);
  assert.equal(await page.getAttribute(".resend-status", "role"), "status");

  // A reload forgets the countdown, the server does not: its 429 restarts
  // the wait with what is left of it.
  await page.reload();
  await pressResend(page, "barbara@example.com");
  assert.match(
    await status(page),
    /^You asked a moment ago: a new link can be sent when the countdown ends\./,
  );
  assert.ok(await button(page).isDisabled());
  assert.ok(await secondsLeft(page) <= left);
  await checkPage(page, "register-done-resent");
  await page.waitForFunction(
    () =>
      !document.querySelector<HTMLButtonElement>(
        'form[action="/activate/resend"] button[type=submit]',
      )?.disabled,
    undefined,
    { timeout: (RESEND_INTERVAL_S + 5) * 1000 },
  );
  assert.match(await status(page), /You can ask for another link now\.$/);
  assert.equal(await button(page).textContent(), "Send a new link");

  // The first press mailed a new link (the refused one mailed nothing).
  const second = await app.activationLink(nth + 1);
  assert.notEqual(second, first);
  const old = await page.goto(first);
  assert.equal(old?.status(), 400);
  await page.getByText("A newer link replaced this one").waitFor();
  await page.goto(second);
  await page.waitForURL("**/account");
  assert.equal(await page.textContent("[data-testid=first-name]"), "Barbara");
  await context.close();
}
