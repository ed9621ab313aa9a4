// What a form says after a 429, above the same form with what was typed:
// how long to wait, in words. Its submit button is a WaitButton island.
import type { Translate } from "../lib/i18n/i18n.ts";
import { formatWait } from "../lib/i18n/durations.ts";
import { WAIT_BUTTON_MESSAGES } from "../islands/WaitButton.tsx";
import { Island, pickMessages } from "./Island.tsx";

export function LimitNotice(
  { t, lang, seconds }: { t: Translate; lang: string; seconds: number },
) {
  return (
    <div class="notice limit" role="alert">
      <p>
        <strong>{t("limit.title")}</strong>
      </p>
      <p>{t("limit.body", { when: formatWait(seconds * 1000, lang) })}</p>
    </div>
  );
}

/** The form's submit button; after a 429, one that waits it out. */
export function SubmitButton(
  { t, label, waitSeconds }: {
    t: Translate;
    label: string;
    waitSeconds?: number;
  },
) {
  if (!waitSeconds) {
    return <button type="submit" class="primary">{label}</button>;
  }
  return (
    <Island
      name="WaitButton"
      props={{
        messages: pickMessages(t, WAIT_BUTTON_MESSAGES),
        label,
        seconds: waitSeconds,
      }}
    />
  );
}
