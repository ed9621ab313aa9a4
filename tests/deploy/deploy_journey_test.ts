// Under Deno Deploy's rules, on Deploy's Deno (`deno task test:deploy` sets
// DEPLOY_DENO): `deno run -A main.ts`, unstable features only from deno.json,
// DENO_DEPLOYMENT_ID set and APP_ENV unset (so production), no KV queue. The
// mail server is down for the first registration: its mail must come from
// a run of the cron job, not the request. Then a second registration mails
// at once. Each link signs its person in.
//
// Not Deploy itself: KV is a local file (Deploy's managed KV is not
// reachable from here), links point at an https origin while requests go to
// loopback http, and Deploy's scheduler is Deno's local cron.
import assert from "node:assert/strict";
import { GOOD_PASSWORD, TestBrowser } from "../helpers.ts";
import { freePort, startSmtpServer } from "../smtp_server.ts";
import { runMain, until } from "./run_main.ts";

const DENO = Deno.env.get("DEPLOY_DENO");
const VERSION = Deno.env.get("DEPLOY_DENO_VERSION");
const ORIGIN = "https://cloud-user.example";
/** The first cron tick after the 60 s retry backoff: up to two minutes. */
const CRON_WAIT_MS = 150_000;

async function register(
  browser: TestBrowser,
  firstName: string,
  email: string,
) {
  const res = await browser.post("/register", {
    first_name: firstName,
    email,
    password: GOOD_PASSWORD,
    password_confirm: GOOD_PASSWORD,
  });
  assert.equal(res.status, 303, res.body);
}

/** Follows a mailed link (on ORIGIN) on the app, and lands signed in. */
async function activate(browser: TestBrowser, text: string, name: string) {
  const link = new RegExp(`${ORIGIN}(/activate/[\\w.-]+)`).exec(text)?.[1];
  assert.ok(link, `no link in:\n${text}`);
  const page = await browser.get(link);
  assert.equal(page.status, 200);
  const res = await browser.post(link);
  assert.equal(res.status, 303, res.body);
  assert.equal(res.location, "/account");
  const account = await browser.get("/account");
  assert.equal(account.status, 200);
  assert.match(account.body, new RegExp(name));
}

Deno.test({
  name:
    `deploy: on Deploy's Deno (${VERSION}), production by default, the cron retries a failed first send`,
  ignore: !DENO,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const version = new TextDecoder().decode(
      (await new Deno.Command(DENO!, { args: ["--version"] }).output()).stdout,
    );
    assert.match(
      version,
      new RegExp(`^deno ${VERSION?.replaceAll(".", "\\.")} `),
    );
    const dir = await Deno.makeTempDir();
    const smtpPort = freePort();
    const app = runMain({
      DENO_DEPLOYMENT_ID: "test-deployment",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      KV_PATH: `${dir}/kv.sqlite3`,
      SECRET_KEY: btoa(
        String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))),
      ),
      APP_ORIGIN: ORIGIN,
      MAIL_BACKEND: "smtp",
      MAIL_FROM: "cloud-user <no-reply@cloud-user.example>",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtpPort),
      SIGNAL_QUEUE: "none",
      PASSWORD_WORKERS: "1",
    }, { deno: DENO });
    const log = () => app.lines.join("\n");
    let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    try {
      const url = await app.listening;
      assert.match(log(), /env=production mail=smtp/, "production by default");
      const [cron, serve] = app.records;
      assert.equal(cron?.call, "cron", log());
      assert.match(cron.from ?? "", /^at file:\/\/\S+\/main\.ts:\d+:\d+$/);
      assert.equal(serve?.call, "serve");

      // The mail server is down: the registration's own attempt fails.
      const ada = new TestBrowser(url, ORIGIN);
      await register(ada, "Ada", "ada@example.com");
      await until(
        "the first attempt to fail",
        () => /signal delivery failed/.test(log()),
        30_000,
        log,
      );
      smtp = await startSmtpServer({}, { port: smtpPort });
      const upAt = Date.now();
      const [mail] = await smtp.waitFor(1, CRON_WAIT_MS);
      assert.deepEqual(mail.rcptTo, ["ada@example.com"]);
      const runs = app.records.filter((r) =>
        r.call === "cron-run" && r.by === "schedule" && r.at! >= upAt
      );
      assert.ok(runs.length >= 1, `delivered without a cron run:\n${log()}`);
      await activate(ada, mail.text, "Ada");

      // Mail up: the registration delivers at once, no cron needed.
      const bob = new TestBrowser(url, ORIGIN);
      await register(bob, "Bob", "bob@example.com");
      const mails = await smtp.waitFor(2, 30_000);
      assert.deepEqual(mails[1].rcptTo, ["bob@example.com"]);
      await activate(bob, mails[1].text, "Bob");
      assert.equal(smtp.received.length, 2, "no mail sent twice");
    } finally {
      const status = await app.stop();
      await smtp?.close();
      await Deno.remove(dir, { recursive: true });
      assert.equal(status.code, 0, log());
    }
  },
});
