// A new password and its confirmation on a form the server renders (reset,
// change, choose-a-password on activation): the NewPassword island, the same
// fields and live checks as registration's; plain password inputs without
// JavaScript.
import type { Translate } from "../lib/i18n/i18n.ts";
import { PASSWORD_MIN } from "../lib/security/password_rules.ts";
import type { FieldErrors } from "../lib/accounts/schemas.ts";
import { NEW_PASSWORD_MESSAGES } from "../islands/NewPassword.tsx";
import { Island, pickMessages } from "./Island.tsx";

export function NewPasswordFields(
  { t, errors, personal }: {
    t: Translate;
    errors: FieldErrors;
    /** The account's name and address: a password built from them is weak. */
    personal?: string[];
  },
) {
  return (
    <Island
      name="NewPassword"
      props={{
        messages: pickMessages(t, NEW_PASSWORD_MESSAGES),
        labels: {
          password: t("reset.password"),
          hint: t("register.password_hint", { min: PASSWORD_MIN }),
          confirm: t("register.password_confirm"),
        },
        errors: {
          ...(errors.password && { password: errors.password }),
          ...(errors.password_confirm &&
            { password_confirm: errors.password_confirm }),
        },
        personal,
      }}
    />
  );
}
