// What a form says after a 429, above the same form with what was typed:
// how long to wait, in words. Its submit button is a WaitButton island.
import type { Translate } from "../lib/i18n/i18n.ts";
import { formatWait } from "../lib/i18n/durations.ts";
import { clockTime, WAIT_BUTTON_MESSAGES } from "../islands/WaitButton.tsx";
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
  { t, label, waitSeconds, waitKey }: {
    t: Translate;
    label: string;
    waitSeconds?: number;
    /** The waiting label's key ({time}); "Try again in 0:42" by default. */
    waitKey?: string;
  },
) {
  if (!waitSeconds) {
    return <button type="submit" class="primary">{label}</button>;
  }
  return (
    <Island
      name="WaitButton"
      props={{
        messages: pickMessages(t, [
          ...WAIT_BUTTON_MESSAGES,
          ...(waitKey ? [waitKey] : []),
        ]),
        label,
        seconds: waitSeconds,
        waitKey,
      }}
    />
  );
}

/**
 * A new link asked for too soon: nothing went wrong, the next one simply
 * comes later ("A new link can be sent in 0:42").
 */
export function ResendWaitNotice(
  { t, seconds }: { t: Translate; seconds: number },
) {
  return (
    <p class="notice" role="status">
      {t("resend.wait_notice", { time: clockTime(seconds) })}
    </p>
  );
}
