// One zod schema per form, shared by the pages, the JSON API and the islands
// that validate live. Messages are i18n keys, rendered in the person's language.
// Written with zod/mini: the browser bundle imports this file, and full zod
// (with its locales) would weigh ~95 KB gzipped there; mini is ~8 KB.
import * as z from "zod/mini";
import {
  PASSWORD_MAX,
  PASSWORD_MIN,
  weakPasswordReason,
} from "../security/password_rules.ts";

export const FIRST_NAME_MAX = 150;
export const EMAIL_MAX = 254;

export const emailField = z.pipe(
  z.string({ error: "email.required" }).check(
    z.trim(),
    z.toLowerCase(),
    z.minLength(1, "email.required"),
    z.maxLength(EMAIL_MAX, "email.too_long"),
  ),
  z.email({ error: "email.invalid" }),
);

export const newPasswordField = z.string({ error: "password.required" })
  .check(
    z.minLength(1, "password.required"),
    z.minLength(PASSWORD_MIN, "password.too_short"),
    z.maxLength(PASSWORD_MAX, "password.too_long"),
  );

/**
 * What a first name may hold: letters, combining marks, spaces and the
 * punctuation names use (' ’ - .). The name is printed into mails, where a
 * mail client links anything that looks like an address, so everything else
 * is refused: digits, ":" and "/", control and format characters (U+202E
 * and the other bidi overrides, zero-width characters), line and paragraph
 * separators. Two words joined by a dot ("evil.example") read as a host name
 * and are refused too; initials ("J.R.R.") and "St. John" are not.
 */
const NAME_CHARS = /^[\p{L}\p{M} '\u2019.-]+$/u;
const LOOKS_LIKE_HOST = /\p{L}{2}\.\p{L}{2}/u;

export const firstNameField = z.string({ error: "first_name.required" })
  .check(
    z.trim(),
    z.minLength(1, "first_name.required"),
    z.maxLength(FIRST_NAME_MAX, "first_name.too_long"),
    z.regex(NAME_CHARS, "first_name.invalid"),
    z.refine((s) => !LOOKS_LIKE_HOST.test(s), "first_name.invalid"),
    // At least one letter: marks and punctuation alone show nothing.
    z.regex(/\p{L}/u, "first_name.invalid"),
  );

export const RegisterSchema = z.object({
  first_name: firstNameField,
  email: emailField,
  password: newPasswordField,
  password_confirm: z.string({ error: "password_confirm.mismatch" }),
}).check(
  z.superRefine((form, ctx) =>
    checkNewPassword(form, [form.email, form.first_name], ctx)
  ),
);
export type RegisterInput = z.infer<typeof RegisterSchema>;

export const LoginSchema = z.object({
  email: emailField,
  password: z.string({ error: "password.required" }).check(
    z.minLength(1, "password.required"),
    z.maxLength(PASSWORD_MAX, "login.failed"),
  ),
});
export type LoginInput = z.infer<typeof LoginSchema>;

/** Just an address: resend the activation link, forgot password. */
export const EmailOnlySchema = z.object({ email: emailField });
export type EmailOnlyInput = z.infer<typeof EmailOnlySchema>;

/** A new password and its confirmation, checked against `personal` words. */
function checkNewPassword(
  form: { password: string; password_confirm: string },
  personal: string[],
  ctx: z.core.$RefinementCtx<unknown>,
) {
  const reason = weakPasswordReason(form.password, personal);
  if (form.password.length >= PASSWORD_MIN && reason) {
    ctx.addIssue({
      code: "custom",
      path: ["password"],
      message: `password.weak_${reason}`,
    });
  }
  if (form.password !== form.password_confirm) {
    ctx.addIssue({
      code: "custom",
      path: ["password_confirm"],
      message: "password_confirm.mismatch",
    });
  }
}

const newPasswordPair = {
  password: newPasswordField,
  password_confirm: z.string({ error: "password_confirm.mismatch" }),
};

export const ResetPasswordSchema = z.object(newPasswordPair)
  .check(z.superRefine((form, ctx) => checkNewPassword(form, [], ctx)));
export type ResetPasswordInput = z.infer<typeof ResetPasswordSchema>;

export const ChangePasswordSchema = z.object({
  current_password: z.string({ error: "current_password.required" }).check(
    z.minLength(1, "current_password.required"),
    z.maxLength(PASSWORD_MAX, "current_password.wrong"),
  ),
  ...newPasswordPair,
}).check(z.superRefine((form, ctx) => checkNewPassword(form, [], ctx)));
export type ChangePasswordInput = z.infer<typeof ChangePasswordSchema>;

/** A token from a mailed link, as the JSON API receives it. */
export const tokenField = z.string({ error: "token.required" }).check(
  z.minLength(1, "token.required"),
  z.maxLength(512, "token.invalid"),
);

export const ActivateApiSchema = z.object({ token: tokenField });

export const ResetPasswordApiSchema = z.object({
  token: tokenField,
  ...newPasswordPair,
}).check(z.superRefine((form, ctx) => checkNewPassword(form, [], ctx)));

/** Field name → first message key, for re-rendering a form. */
export type FieldErrors = Record<string, string>;

export function fieldErrors(error: z.core.$ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? "_form");
    out[field] ??= issue.message;
  }
  return out;
}
