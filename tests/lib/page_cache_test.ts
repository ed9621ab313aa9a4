import assert from "node:assert/strict";
import { pickEncoding } from "../../lib/web/page_cache.ts";
import { startTestApp } from "../helpers.ts";

Deno.test("page cache: the register form is the same page plain, gzipped or brotli'd", async () => {
  await using app = await startTestApp();
  const get = (headers: Record<string, string>) =>
    fetch(`${app.url}/register`, { headers });
  // fetch would decode on its own; read the raw bytes to see what was sent.
  const plain = await get({ "accept-encoding": "identity" });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("content-encoding"), null);
  assert.match(plain.headers.get("content-type") ?? "", /^text\/html/);
  const html = await plain.text();
  assert.match(
    html,
    /^<!doctype html>.*<form method="post" action="\/register"/s,
  );

  const gz = await get({ "accept-encoding": "gzip" });
  assert.equal(gz.headers.get("content-encoding"), "gzip");
  assert.match(gz.headers.get("vary") ?? "", /Accept-Encoding/);
  assert.equal(await gz.text(), html);

  const br = await get({ "accept-encoding": "gzip, deflate, br" });
  assert.equal(br.headers.get("content-encoding"), "br");
  assert.equal(await br.text(), html);
});

Deno.test("page cache: a matching If-None-Match gets 304 with no body", async () => {
  await using app = await startTestApp();
  const first = await fetch(`${app.url}/register`);
  await first.body?.cancel();
  const etag = first.headers.get("etag");
  assert.match(etag ?? "", /^W\/".+"$/);
  assert.equal(first.headers.get("cache-control"), "private, no-cache");
  const again = await fetch(`${app.url}/register`, {
    headers: { "if-none-match": etag! },
  });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get("etag"), etag);
  assert.equal(await again.text(), "");
  const other = await fetch(`${app.url}/register`, {
    headers: { "if-none-match": 'W/"something-else"' },
  });
  assert.equal(other.status, 200);
  await other.body?.cancel();
});

Deno.test("page cache: a signed-in visitor does not get the signed-out page", async () => {
  await using app = await startTestApp();
  const browser = app.browser();
  await browser.register();
  await browser.post(await app.activationPath());
  // Warm the cache first, then come signed in: sent on to the account page.
  const anonymous = await app.browser().get("/register");
  assert.doesNotMatch(anonymous.body, /action="\/logout"/);
  const signedIn = await browser.get("/register");
  assert.equal(signedIn.status, 303);
  assert.equal(signedIn.location, "/account");
  assert.equal(signedIn.headers.get("etag"), null);
});

Deno.test("page cache: encodings follow Accept-Encoding and its q-values", () => {
  assert.equal(pickEncoding(undefined), null);
  assert.equal(pickEncoding("identity"), null);
  assert.equal(pickEncoding("gzip"), "gzip");
  assert.equal(pickEncoding("gzip, deflate, br"), "br");
  assert.equal(pickEncoding("br;q=0, gzip"), "gzip");
  assert.equal(pickEncoding("gzip;q=0"), null);
  assert.equal(pickEncoding("*"), "br");
  assert.equal(pickEncoding("br;q=0.5, gzip;q=0.8"), "gzip");
});

Deno.test("compress: other pages and the stylesheet are gzipped only when asked", async () => {
  await using app = await startTestApp();
  const css = await fetch(`${app.url}/static/styles.css`, {
    headers: { "accept-encoding": "gzip" },
  });
  assert.equal(css.status, 200);
  assert.equal(css.headers.get("content-encoding"), "gzip");
  const text = await css.text();
  const plain = await fetch(`${app.url}/static/styles.css`, {
    headers: { "accept-encoding": "identity" },
  });
  assert.equal(plain.headers.get("content-encoding"), null);
  assert.equal(await plain.text(), text);
  const login = await fetch(`${app.url}/login`, {
    headers: { "accept-encoding": "gzip" },
  });
  assert.equal(login.headers.get("content-encoding"), "gzip");
  assert.match(await login.text(), /<form/);
});
