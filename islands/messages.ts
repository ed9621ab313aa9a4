// Islands cannot call the server's translator, so they get the messages they
// need as a prop and look them up here.
import { formatMessage } from "../lib/i18n/format_message.ts";
import type { Translate } from "../lib/i18n/i18n.ts";

export type Messages = Record<string, string>;

export function translateFrom(messages: Messages): Translate {
  return (key, vars) => formatMessage(messages[key] ?? key, vars);
}
