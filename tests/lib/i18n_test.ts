import assert from "node:assert/strict";
import { loadLocales } from "../../lib/i18n/i18n.ts";
import { createEmailRenderer } from "../../lib/mail/templates.ts";

const LOCALES = new URL("../../locales/", import.meta.url);
const EMAILS = new URL("../../emails/", import.meta.url);

async function readJson(url: URL): Promise<Record<string, string>> {
  return JSON.parse(await Deno.readTextFile(url));
}

async function names(dir: URL, want: "file" | "dir"): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (want === "file" ? e.isFile : e.isDirectory) out.push(e.name);
  }
  return out.sort();
}

const placeholders = (text: string) =>
  [...text.matchAll(/\{\{?\s*(\w+)\s*\}?\}/g)].map((m) => m[1]).sort();

Deno.test("i18n: every language has every message key, with the same placeholders", async () => {
  const i18n = await loadLocales();
  assert.deepEqual(i18n.langs, ["en", "ru"]);
  const en = await readJson(new URL("en.json", LOCALES));
  for (const lang of i18n.langs) {
    const dict = await readJson(new URL(`${lang}.json`, LOCALES));
    assert.deepEqual(Object.keys(dict).sort(), Object.keys(en).sort(), lang);
    for (const [key, text] of Object.entries(dict)) {
      assert.ok(text.trim(), `${lang}: ${key} is empty`);
      assert.deepEqual(
        placeholders(text),
        placeholders(en[key]),
        `${lang}: ${key}`,
      );
    }
  }
});

Deno.test("i18n: every email template exists in every language and renders", async () => {
  const i18n = await loadLocales();
  const langs = await names(EMAILS, "dir");
  assert.deepEqual(langs, i18n.langs, "emails/<lang>/ for each locale");
  const en = await names(new URL("en/", EMAILS), "file");
  const renderer = createEmailRenderer();
  for (const lang of langs) {
    const files = await names(new URL(`${lang}/`, EMAILS), "file");
    assert.deepEqual(files, en, `emails/${lang}/`);
    for (const file of files) {
      const text = await Deno.readTextFile(new URL(`${lang}/${file}`, EMAILS));
      const original = await Deno.readTextFile(new URL(`en/${file}`, EMAILS));
      assert.deepEqual(
        [...new Set(placeholders(text))],
        [...new Set(placeholders(original))],
        `${lang}/${file}`,
      );
    }
    for (
      const name of new Set(
        files.map((f) => f.replace(/_(subject|body|reason)\..*$/, "")),
      )
    ) {
      const vars = {
        ...Object.fromEntries(
          [
            "first_name",
            "link",
            "lifetime",
            "login_link",
            "reset_link",
            "new_email",
          ]
            .map((k) => [k, `<${k}>`]),
        ),
        app_name: "<app_name>",
        app_origin: "https://app.example",
      };
      const mail = await renderer.render(name, lang, vars);
      assert.ok(mail.subject && !mail.subject.includes("\n"));
      assert.doesNotMatch(mail.text + mail.html, /\{\{/);
      assert.match(mail.html, new RegExp(`<html lang="${lang}">`));
    }
  }
});

Deno.test("i18n: a language is a file: a new locales/<lang>.json is picked up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(new URL("en.json", LOCALES), `${dir}/en.json`);
    await Deno.writeTextFile(
      `${dir}/de.json`,
      JSON.stringify({ "lang.name": "Deutsch", "nav.login": "Anmelden" }),
    );
    await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");
    const i18n = await loadLocales(new URL(`file://${dir}/`));
    assert.deepEqual(i18n.langs, ["en", "de"]);
    assert.deepEqual(i18n.languages[1], { code: "de", name: "Deutsch" });
    assert.equal(i18n.translator("de")("nav.login"), "Anmelden");
    // A key the new file lacks falls back to the default language.
    assert.equal(i18n.translator("de")("nav.logout"), "Sign out");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
