// "Didn't get the email?": asks for a new activation link. A plain form that
// works without JavaScript; pages put it under their own message. Its button
// is an island that, with JavaScript, sends in place and counts down.
import type { Translate } from "../lib/i18n/i18n.ts";
import { RESEND_BUTTON_MESSAGES } from "../islands/ResendButton.tsx";
import { Field } from "./Field.tsx";
import { Island, pickMessages } from "./Island.tsx";
import { ResendWaitNotice } from "./LimitNotice.tsx";

export interface ResendFormProps {
  t: Translate;
  email?: string;
  /** A message key for the email field. */
  error?: string;
  /** Renders the heading as h1 on the page that holds only this form. */
  standalone?: boolean;
  /** The heading, where "Didn't get the email?" is not the situation. */
  title?: string;
  /** After a 429: when the server takes the next request. */
  waitSeconds?: number;
}

export function ResendForm(
  { t, email, error, standalone, title, waitSeconds }: ResendFormProps,
) {
  const Heading = standalone ? "h1" : "h2";
  return (
    <section class="resend" aria-labelledby="resend-title">
      <Heading id="resend-title">{title ?? t("resend.title")}</Heading>
      <p>{t("resend.intro")}</p>
      {waitSeconds !== undefined && (
        <ResendWaitNotice t={t} seconds={waitSeconds} />
      )}
      <form method="post" action="/activate/resend" novalidate>
        <Field
          t={t}
          id="resend-email"
          name="email"
          type="email"
          label={t("resend.email")}
          value={email}
          error={error}
          autocomplete="email"
          required
        />
        <Island
          name="ResendButton"
          props={{
            messages: pickMessages(t, RESEND_BUTTON_MESSAGES),
            waitSeconds,
          }}
        />
      </form>
    </section>
  );
}
