// What the browser tests run against: the app as a real server process (the
// way `deno task start` runs it) mailing through a real SMTP server on
// loopback, and headless Chromium with a check and screenshots per page.
import assert from "node:assert/strict";
import axe from "axe-core";
import { type Browser, chromium, type Page } from "playwright-core";
import { linkPath, TEST_SECRET } from "../helpers.ts";
import {
  freePort,
  type ReceivedMail,
  startSmtpServer,
} from "../smtp_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
export const SCREENSHOTS = `${ROOT}e2e-screenshots`;
/** Short, so the journey sees a resend's countdown end. */
export const RESEND_INTERVAL_S = 6;

export interface E2eApp extends AsyncDisposable {
  origin: string;
  /** Milliseconds from spawning the process to its first 200. */
  startupMs: number;
  /** Waits for the nth mail (1-based) and returns its activation link. */
  activationLink(nth: number): Promise<string>;
  /** Waits for the nth mail (1-based) and returns it. */
  mail(nth: number): Promise<ReceivedMail>;
  output(): string;
}

/** `env`: settings on top of the journey's own. */
export async function startE2eApp(
  env: Record<string, string> = {},
): Promise<E2eApp> {
  const smtp = await startSmtpServer();
  const dir = await Deno.makeTempDir({ prefix: "e2e-app-" });
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      `--allow-write=${dir}`,
      "--allow-sys",
      "main.ts",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: {
      // Only what finds deno and its cache; nothing else leaks in.
      ...pick(["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]),
      NO_COLOR: "1",
      APP_ENV: "development",
      HOSTNAME: "127.0.0.1",
      PORT: String(port),
      APP_ORIGIN: origin,
      KV_PATH: `${dir}/kv.sqlite3`,
      SECRET_KEY: TEST_SECRET,
      MAIL_BACKEND: "smtp",
      MAIL_FROM: "cloud-user <no-reply@cloud-user.test>",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      PASSWORD_WORKERS: "1",
      RESEND_INTERVAL: `${RESEND_INTERVAL_S}s`,
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) log += decoder.decode(chunk);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);

  async function stop() {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await drained;
    await smtp.close();
    await Deno.remove(dir, { recursive: true });
  }

  let startupMs = 0;
  for (let i = 0;; i++) {
    const res = await fetch(`${origin}/register`).catch(() => null);
    await res?.body?.cancel();
    if (res?.status === 200) {
      startupMs = Math.round(performance.now() - started);
      break;
    }
    if (i > 300) {
      await stop();
      throw new Error(`the app did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  async function mail(nth: number): Promise<ReceivedMail> {
    const mails = await smtp.waitFor(nth, 10_000).catch((err) => {
      throw new Error(`${err.message}:\n${log}`);
    });
    return mails[nth - 1];
  }

  return {
    origin,
    startupMs,
    output: () => log,
    async activationLink(nth) {
      return origin + linkPath((await mail(nth)).text, "/activate/");
    },
    mail,
    [Symbol.asyncDispose]: stop,
  };
}

function pick(names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((n) => {
      const v = Deno.env.get(n);
      return v === undefined ? [] : [[n, v]];
    }),
  );
}

export function launchChromium(): Promise<Browser> {
  // launch() gives every run a new, empty profile directory.
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

const VIEWPORTS = [
  ["desktop", { width: 1280, height: 800 }],
  ["phone", { width: 390, height: 844 }],
] as const;

/**
 * axe-core in both colour schemes (serious and critical violations fail),
 * then full-page screenshots at desktop and phone widths (and the phone dark). page.evaluate runs
 * through the DevTools protocol, which the page's CSP does not govern.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const violations = await runAxe(page);
    assert.deepEqual(violations, [], `${name} (${scheme}): ${page.url()}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  for (const [label, size] of VIEWPORTS) {
    await page.setViewportSize(size);
    await page.screenshot({
      path: `${SCREENSHOTS}/${name}-${label}.png`,
      fullPage: true,
    });
  }
  // The phone in the dark scheme too: most phones switch at night.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({
    path: `${SCREENSHOTS}/${name}-phone-dark.png`,
    fullPage: true,
  });
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(VIEWPORTS[0][1]);
}

async function runAxe(page: Page): Promise<string[]> {
  const loaded = await page.evaluate("typeof window.axe === 'object'");
  if (!loaded) await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const res = await (globalThis as any).axe.run(document, {
      resultTypes: ["violations"],
    });
    return res.violations as {
      id: string;
      impact: string;
      help: string;
      nodes: { target: string[] }[];
    }[];
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) =>
      `${v.impact} ${v.id}: ${v.help} (${
        v.nodes.map((n) => n.target.join(" ")).join(", ")
      })`
    );
}

/** The first link in a mail's text whose path starts with `prefix`. */
export function linkIn(text: string, prefix: string): string {
  const url = text.match(/https?:\/\/[^\s"<]+/g)?.find((u) =>
    new URL(u).pathname.startsWith(prefix)
  );
  if (!url) throw new Error(`no ${prefix} link in:\n${text}`);
  return url;
}

/**
 * Registers Ada through the form and opens her activation link (mail number
 * `mail`, 1-based) in the same browser: she lands signed in on /account.
 */
export async function registerAndActivate(
  page: Page,
  app: E2eApp,
  { email, password, mail }: { email: string; password: string; mail: number },
): Promise<void> {
  await page.goto("/register");
  await page.fill("#field-first_name", "Ada");
  await page.fill("#field-email", email);
  await page.fill("#field-password", password);
  await page.fill("#field-password_confirm", password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/register/done");
  await page.goto(await app.activationLink(mail));
  await page.waitForURL("**/account");
}
