// A new password and its confirmation: the reset page and the account page.
import type { Translate } from "../lib/i18n.ts";
import { PASSWORD_MAX, PASSWORD_MIN } from "../lib/password_rules.ts";
import type { FieldErrors } from "../lib/schemas.ts";
import { Field } from "./Field.tsx";

/** The two new-password fields, shared with the account page. */
export function NewPasswordFields(
  { t, errors }: { t: Translate; errors: FieldErrors },
) {
  return (
    <>
      <Field
        t={t}
        name="password"
        type="password"
        label={t("reset.password")}
        hint={t("register.password_hint", { min: PASSWORD_MIN })}
        error={errors.password}
        autocomplete="new-password"
        required
        minLength={PASSWORD_MIN}
        maxLength={PASSWORD_MAX}
      />
      <Field
        t={t}
        name="password_confirm"
        type="password"
        label={t("register.password_confirm")}
        error={errors.password_confirm}
        autocomplete="new-password"
        required
      />
    </>
  );
}
