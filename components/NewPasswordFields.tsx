// A new password and its confirmation, for the reset page and the account
// page: the same field as registration's (show/hide, and a strength meter on
// the server's own rules), a plain password input without JavaScript.
import type { Translate } from "../lib/i18n/i18n.ts";
import { PASSWORD_MAX, PASSWORD_MIN } from "../lib/security/password_rules.ts";
import type { FieldErrors } from "../lib/accounts/schemas.ts";
import { PASSWORD_FIELD_MESSAGES } from "../islands/PasswordField.tsx";
import { Island, pickMessages } from "./Island.tsx";

/** The two new-password fields, shared with the account page. */
export function NewPasswordFields(
  { t, errors, personal }: {
    t: Translate;
    errors: FieldErrors;
    /** The account's name and address: a password built from them is weak. */
    personal?: string[];
  },
) {
  const messages = pickMessages(t, [
    ...PASSWORD_FIELD_MESSAGES,
    ...[errors.password, errors.password_confirm].filter((k) =>
      k !== undefined
    ),
  ]);
  return (
    <>
      <Island
        name="PasswordField"
        props={{
          messages,
          name: "password",
          label: t("reset.password"),
          hint: t("register.password_hint", { min: PASSWORD_MIN }),
          error: errors.password,
          autocomplete: "new-password",
          meter: true,
          personal,
          required: true,
          minLength: PASSWORD_MIN,
          maxLength: PASSWORD_MAX,
        }}
      />
      <Island
        name="PasswordField"
        props={{
          messages,
          name: "password_confirm",
          label: t("register.password_confirm"),
          error: errors.password_confirm,
          autocomplete: "new-password",
          required: true,
        }}
      />
    </>
  );
}
