// Server side of an island: render it in place, serialise its props as JSON in
// a data attribute (the renderer escapes it like any attribute, so no prop
// can break out of the markup, and nothing inline runs under the strict CSP)
// and load the bundle that hydrates it. Browsers run a module script once however often it is
// included, so a page with two islands still fetches one file.
import en from "../locales/en.json" with { type: "json" };
import type { ComponentProps } from "preact";
import { ISLANDS_SCRIPT } from "../lib/web/assets.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { type IslandName, ISLANDS } from "../islands/registry.ts";
import type { Messages } from "../islands/messages.ts";

/** The translated messages whose keys start with one of `prefixes`. */
export function pickMessages(t: Translate, prefixes: string[]): Messages {
  return Object.fromEntries(
    Object.keys(en)
      .filter((key) => prefixes.some((p) => key.startsWith(p)))
      .map((key) => [key, t(key)]),
  );
}

export function Island<N extends IslandName>(
  props: { name: N; props: ComponentProps<typeof ISLANDS[N]> },
) {
  // deno-lint-ignore no-explicit-any
  const Component = ISLANDS[props.name] as any;
  return (
    <>
      <div data-island={props.name} data-props={JSON.stringify(props.props)}>
        <Component {...props.props} />
      </div>
      <script type="module" src={ISLANDS_SCRIPT} />
    </>
  );
}
