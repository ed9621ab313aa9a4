// The browser entry (bundled by tools/build_islands.ts): hydrate every island
// the server rendered, with the props it serialised on it.
import { h, hydrate } from "preact";
import { ISLANDS } from "./registry.ts";

for (const root of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const name = root.dataset.island as keyof typeof ISLANDS;
  const island = ISLANDS[name];
  if (!island) continue;
  const props = JSON.parse(root.dataset.props ?? "{}");
  // deno-lint-ignore no-explicit-any
  hydrate(h(island as any, props), root);
}
