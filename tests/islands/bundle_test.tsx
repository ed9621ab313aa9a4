// The committed browser bundle: current, within budget, served for good, and
// wired into the pages that need it.
import assert from "node:assert/strict";
import { render } from "preact-render-to-string";
import manifest from "../../static/build/manifest.json" with { type: "json" };
import { Island } from "../../components/Island.tsx";
import { bundleIslands, gzippedSize } from "../../tools/build_islands.ts";
import { startTestApp } from "../helpers.ts";

const BUDGET_GZIPPED = 20 * 1024;

Deno.test("islands: the committed bundle is what the sources build (else: deno task build)", async () => {
  const fresh = await bundleIslands();
  assert.equal(
    manifest.islands,
    fresh.file,
    "static/build is stale: run `deno task build` and commit the result",
  );
  const committed = await Deno.readFile(
    new URL(`../../static/build/${fresh.file}`, import.meta.url),
  );
  assert.deepEqual(committed, fresh.code);
});

Deno.test("islands: the bundle stays under 20 KB gzipped", async () => {
  const code = await Deno.readFile(
    new URL(`../../static/build/${manifest.islands}`, import.meta.url),
  );
  const size = await gzippedSize(code);
  assert.ok(size < BUDGET_GZIPPED, `bundle is ${size} bytes gzipped`);
});

Deno.test("islands: the bundle is served with a year-long immutable cache", async () => {
  await using app = await startTestApp();
  const res = await fetch(`${app.url}/static/build/${manifest.islands}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /javascript/);
  assert.equal(
    res.headers.get("cache-control"),
    "public, max-age=31536000, immutable",
  );
  await res.body?.cancel();
  const css = await fetch(`${app.url}/static/styles.css`);
  assert.equal(css.headers.get("cache-control"), "public, max-age=300");
  await css.body?.cancel();
});

Deno.test("islands: props are serialised so no value can break out of the markup", () => {
  const nasty = `"></div><script>alert(1)</script><!--`;
  const html = render(
    <Island
      name="PasswordField"
      props={{
        messages: { "password_field.show": nasty },
        name: "password",
        label: nasty,
        autocomplete: "current-password",
      }}
    />,
  );
  assert.ok(!html.includes("<script>alert"), html);
  const attr = html.match(/data-props="([^"]*)"/)?.[1] ?? "";
  const decoded = attr.replaceAll("&quot;", '"').replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">").replaceAll("&amp;", "&");
  assert.equal(JSON.parse(decoded).label, nasty);
  assert.match(html, /<script type="module" src="\/static\/build\/islands-/);
});

Deno.test("islands: the register, login and resend forms mount theirs; others load no script", async () => {
  await using app = await startTestApp();
  const browser = app.browser();
  const script = `src="/static/build/${manifest.islands}"`;
  const register = await browser.get("/register");
  assert.match(register.body, /data-island="RegisterForm"/);
  assert.ok(register.body.includes(script));
  const login = await browser.get("/login");
  assert.match(login.body, /data-island="PasswordField"/);
  assert.ok(login.body.includes(script));
  // Wherever the resend form is, its button is the island, still a submit
  // button of a form that posts without JavaScript.
  for (const path of ["/register/done", "/activate/resend", "/activate/x"]) {
    const page = await browser.get(path);
    assert.match(
      page.body,
      /<form method="post" action="\/activate\/resend"[^]*<div data-island="ResendButton"[^>]*><button type="submit">Send a new link<\/button><\/div>/,
      path,
    );
    assert.ok(page.body.includes(script), path);
  }
  const sent = await browser.get("/activate/sent");
  assert.doesNotMatch(sent.body, /<script/);
});
