// A page that only says something: errors, notices, "check your inbox".
import type { ComponentChildren } from "preact";
import type { Config } from "../lib/app/config.ts";
import { formatDuration } from "../lib/i18n/durations.ts";
import type { AppContext } from "../lib/web/http.ts";
import type { Translate } from "../lib/i18n/i18n.ts";

export function Message(
  props: {
    title: string;
    body: ComponentChildren;
    children?: ComponentChildren;
  },
) {
  return (
    <section>
      <h1>{props.title}</h1>
      <p>{props.body}</p>
      {props.children}
    </section>
  );
}

/** "Check your inbox": the answer to every request that may send a mail. */
export function CheckInboxPage(
  props: {
    t: Translate;
    title: string;
    body: ComponentChildren;
    children?: ComponentChildren;
  },
) {
  return (
    <>
      <Message title={props.title} body={props.body}>
        <p class="hint">{props.t("done.spam")}</p>
      </Message>
      {props.children}
    </>
  );
}

/** How long each kind of link works, in words in the page's language. */
export function lifetimes(config: Config, lang: string) {
  return {
    activation_lifetime: formatDuration(config.activationMaxAgeMs, lang),
    reset_lifetime: formatDuration(config.passwordResetMaxAgeMs, lang),
    email_change_lifetime: formatDuration(config.emailChangeMaxAgeMs, lang),
  };
}

/**
 * The handler for a "check your inbox" page: its title and body keys, the
 * body's numbers, and anything below it. Every body may also say how long
 * its link works, in words in the page's language: {activation_lifetime},
 * {reset_lifetime},
 * {email_change_lifetime}.
 */
export function checkInboxHandler(
  config: Config,
  keys: { title: string; body: string },
  vars: Record<string, number>,
  below?: (t: Translate) => ComponentChildren,
) {
  return (c: AppContext) => {
    const t = c.get("t");
    const lang = c.get("language");
    return c.render(
      <CheckInboxPage
        t={t}
        title={t(keys.title)}
        body={t(keys.body, { ...vars, ...lifetimes(config, lang) })}
      >
        {below?.(t)}
      </CheckInboxPage>,
      { title: t(keys.title) },
    );
  };
}

/**
 * A translated sentence naming a masked address ("a…@example.com"), which is
 * kept on one line: broken after its "…" it no longer reads as an address.
 */
export function WithMaskedAddress(
  { text, email }: {
    /** Translates with `email` standing in for the address. */
    text: (email: string) => string;
    email: string;
  },
) {
  const MARK = "\u0000";
  const [before, after = ""] = text(MARK).split(MARK);
  return (
    <>
      {before}
      <span class="masked">{email}</span>
      {after}
    </>
  );
}
