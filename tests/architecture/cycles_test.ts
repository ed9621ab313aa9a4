// No import circles between our own files. Walks the module graphs of
// main.ts and the tools as `deno info --json` reports them (type-only imports
// included, since a circle of types still means a type lives in the wrong
// file) and fails naming every circle it finds. npm and jsr modules are not
// ours: skipped.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const rootUrl = new URL("../../", import.meta.url).href;
const root = fileURLToPath(rootUrl);

interface Info {
  modules: {
    specifier: string;
    dependencies?: {
      code?: { specifier: string };
      type?: { specifier: string };
    }[];
  }[];
}

/** The import graph of `entry`, restricted to files inside the repo. */
async function projectGraph(entry: string): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(out.stdout));
  const ours = (s: string) => s.startsWith(rootUrl);
  const graph = new Map<string, string[]>();
  for (const m of info.modules) {
    if (!ours(m.specifier)) continue;
    const to = new Set<string>();
    for (const d of m.dependencies ?? []) {
      for (const r of [d.code, d.type]) {
        if (r && ours(r.specifier)) to.add(r.specifier);
      }
    }
    graph.set(m.specifier, [...to]);
  }
  return graph;
}

/**
 * One circle per strongly connected component (Tarjan), each written as a
 * path `a → b → … → a` through files relative to the repo.
 */
export function findCycles(graph: Map<string, string[]>): string[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  const name = (s: string) => s.slice(rootUrl.length);
  return components.map((component) => {
    // A shortest circle through the component's first file (breadth-first).
    const members = new Set(component);
    const start = [...component].sort()[0];
    const from = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length && !end) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          end = v;
          break;
        }
        if (!from.has(w)) {
          from.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = end!; v !== start; v = from.get(v)!) path.splice(1, 0, v);
    path.push(start);
    const others = component.filter((v) => !path.includes(v)).map(name);
    const also = others.length
      ? ` (knotted with ${others.sort().join(", ")})`
      : "";
    return path.map(name).join(" → ") + also;
  });
}

Deno.test("findCycles names a circle and ignores a chain", () => {
  const f = (n: string) => rootUrl + n;
  assert.deepEqual(
    findCycles(
      new Map([
        [f("a.ts"), [f("b.ts")]],
        [f("b.ts"), [f("c.ts"), f("d.ts")]],
        [f("c.ts"), [f("a.ts")]],
        [f("d.ts"), []],
      ]),
    ),
    ["a.ts → b.ts → c.ts → a.ts"],
  );
  assert.deepEqual(findCycles(new Map([[f("a.ts"), [f("b.ts")]]])), []);
});

// The app, and the operator tools that reach parts main.ts does not (dump
// and restore).
for (const entry of ["main.ts", "tools/db.ts", "tools/users.ts"]) {
  Deno.test(`${entry}'s module graph has no import circle between our files`, async () => {
    assert.deepEqual(findCycles(await projectGraph(entry)), []);
  });
}
