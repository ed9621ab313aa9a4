// Dependencies point one way. Read from the source of every file under
// lib/, routes/, components/ and islands/: a file may import its own layer
// and the layers below it, never one above. From the bottom:
//
//   0 foundation  lib/app/{config,env,log,clock,metrics,secret_strength}.ts
//   1 storage     lib/kv/, lib/i18n/
//   2 services    lib/security/, lib/mail/
//   3 domain      lib/accounts/, lib/outbox/
//   4 web         lib/web/, components/, islands/
//   5 pages       routes/ (and routes/api/)
//   6 assembly    the rest of lib/app/ (server, deps, health, records, …)
//
// `import type` of lib/app/deps.ts is allowed from anywhere: it is the
// contract every service is handed, not code. Islands run in the browser:
// they may import only islands/, locales/, the form field component and the
// few pure lib/ modules the server shares with them (schemas, password rules,
// words).
import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

const FOUNDATION = new Set(
  ["config", "env", "log", "clock", "metrics", "secret_strength"].map((n) =>
    `lib/app/${n}.ts`
  ),
);
const FOLDER_LAYERS: [string, number][] = [
  ["lib/kv/", 1],
  ["lib/i18n/", 1],
  ["lib/security/", 2],
  ["lib/mail/", 2],
  ["lib/accounts/", 3],
  ["lib/outbox/", 3],
  ["lib/web/", 4],
  ["components/", 4],
  ["islands/", 4],
  ["routes/", 5],
  ["lib/app/", 6],
];

/** Imports that go up, each with why. Keep this list short. */
const EXCEPTIONS: Record<string, string> = {
  "lib/app/config.ts -> lib/security/argon2.ts":
    "PASSWORD_* are checked against the hasher's own minimums; argon2.ts imports nothing of ours",
  "lib/app/env.ts -> lib/security/argon2.ts":
    "PASSWORD_*'s defaults and ranges are the hasher's own; argon2.ts imports nothing of ours",
  "lib/web/app.ts -> routes/":
    "the app is where the routes are mounted (Fresh generates this file)",
};

const ISLAND_MAY_IMPORT = [
  "islands/",
  // The form field the register and password islands re-render: pure
  // Preact, drawn the same on the server and in the browser.
  "components/Field.tsx",
  "locales/",
  "lib/accounts/schemas.ts",
  "lib/security/password_rules.ts",
  "lib/i18n/durations.ts",
  "lib/i18n/format_message.ts",
];

export function layerOf(file: string): number | undefined {
  if (FOUNDATION.has(file)) return 0;
  return FOLDER_LAYERS.find(([prefix]) => file.startsWith(prefix))?.[1];
}

export interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

const IMPORT =
  /^\s*(?:import|export)(\s+type)?\s+(?:[^;]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

export function importsOf(file: string, source: string): Import[] {
  return [...source.matchAll(IMPORT)].map((m) => ({
    from: file,
    to: normalize(join(dirname(file), m[2])),
    typeOnly: Boolean(m[1]),
  }));
}

/** Every import that breaks the rules, as "from -> to: why". */
export function violations(imports: Import[]): string[] {
  const found: string[] = [];
  for (const { from, to, typeOnly } of imports) {
    if (to === "lib/app/deps.ts" && typeOnly) continue;
    if (from.startsWith("islands/")) {
      const type = typeOnly && to.startsWith("lib/");
      if (!type && !ISLAND_MAY_IMPORT.some((p) => to.startsWith(p))) {
        found.push(`${from} -> ${to}: islands run in the browser`);
      }
      continue;
    }
    const a = layerOf(from);
    const b = layerOf(to);
    if (a === undefined || b === undefined || b <= a) continue;
    const excepted = Object.keys(EXCEPTIONS).some((rule) => {
      const [f, t] = rule.split(" -> ");
      return from === f && to.startsWith(t);
    });
    if (!excepted) found.push(`${from} -> ${to}: layer ${a} imports ${b}`);
  }
  return found;
}

async function projectImports(): Promise<Import[]> {
  const imports: Import[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(join(root, dir))) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (/\.tsx?$/.test(e.name)) {
        const source = await Deno.readTextFile(join(root, path));
        imports.push(...importsOf(path, source));
      }
    }
  };
  for (const dir of ["lib", "routes", "components", "islands"]) await walk(dir);
  return imports;
}

Deno.test("layers: the rules catch an upward import and let a downward one pass", () => {
  const imports = [
    ...importsOf(
      "lib/kv/dump.ts",
      'import { recordProblem } from "../app/records.ts";\n',
    ),
    ...importsOf(
      "lib/accounts/users.ts",
      'import { keys } from "../kv/keys.ts";\nimport type { AppDeps } from "../app/deps.ts";\n',
    ),
    ...importsOf(
      "islands/X.tsx",
      'import { getUser } from "../lib/accounts/users.ts";\n',
    ),
  ];
  assert.deepEqual(violations(imports), [
    "lib/kv/dump.ts -> lib/app/records.ts: layer 1 imports 6",
    "islands/X.tsx -> lib/accounts/users.ts: islands run in the browser",
  ]);
});

Deno.test("layers: no file imports a layer above its own", async () => {
  const imports = await projectImports();
  assert.ok(imports.length > 100, "the walk found the project's imports");
  assert.deepEqual(violations(imports), []);
});

Deno.test("layers: every exception is still needed", async () => {
  const imports = await projectImports();
  for (const rule of Object.keys(EXCEPTIONS)) {
    const [f, t] = rule.split(" -> ");
    assert.ok(
      imports.some(({ from, to }) => from === f && to.startsWith(t)),
      `${rule} is not used any more: remove it`,
    );
  }
});
