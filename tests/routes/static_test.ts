// Static files are served before the session is looked up: a signed-in
// browser's stylesheet and island requests cost no KV read.
import assert from "node:assert/strict";
import { createActiveAccount, startTestApp } from "../helpers.ts";

Deno.test("static: a signed-in browser's stylesheet reads nothing from KV", async () => {
  let reads = 0;
  const counted = new Set(["get", "getMany", "list"]);
  await using app = await startTestApp({
    wrapKv: (kv) =>
      new Proxy(kv, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (counted.has(String(prop))) reads++;
            return value.apply(target, args);
          };
        },
      }),
  });
  const browser = await createActiveAccount(app);
  const account = await browser.get("/account");
  assert.equal(account.status, 200);
  reads = 0;
  const css = await browser.get("/static/styles.css");
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type") ?? "", /text\/css/);
  assert.equal(reads, 0);
  // The same browser's page does read its session: the counter counts.
  await browser.get("/account");
  assert.ok(reads > 0);
});
