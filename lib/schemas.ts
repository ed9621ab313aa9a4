// One zod schema per form, shared by the pages, the JSON API and the islands
// that validate live. Messages are i18n keys, rendered in the person's language.
import { z } from "zod";
import {
  PASSWORD_MAX,
  PASSWORD_MIN,
  weakPasswordReason,
} from "./password_rules.ts";

export const FIRST_NAME_MAX = 150;
export const EMAIL_MAX = 254;

export const emailField = z.string({ error: "email.required" })
  .trim()
  .toLowerCase()
  .min(1, "email.required")
  .max(EMAIL_MAX, "email.too_long")
  .pipe(z.email({ error: "email.invalid" }));

export const newPasswordField = z.string({ error: "password.required" })
  .min(1, "password.required")
  .min(PASSWORD_MIN, "password.too_short")
  .max(PASSWORD_MAX, "password.too_long");

export const RegisterSchema = z.object({
  first_name: z.string({ error: "first_name.required" })
    .trim()
    .min(1, "first_name.required")
    .max(FIRST_NAME_MAX, "first_name.too_long")
    // Control characters have no place in a name that is shown and mailed.
    .refine((s) => !/\p{Cc}/u.test(s), "first_name.invalid"),
  email: emailField,
  password: newPasswordField,
  password_confirm: z.string({ error: "password_confirm.mismatch" }),
}).superRefine((form, ctx) => {
  const reason = weakPasswordReason(form.password, [
    form.email,
    form.first_name,
  ]);
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
});
export type RegisterInput = z.infer<typeof RegisterSchema>;

export const LoginSchema = z.object({
  email: emailField,
  password: z.string({ error: "password.required" })
    .min(1, "password.required")
    .max(PASSWORD_MAX, "login.failed"),
});
export type LoginInput = z.infer<typeof LoginSchema>;

/** Field name → first message key, for re-rendering a form. */
export type FieldErrors = Record<string, string>;

export function fieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? "_form");
    out[field] ??= issue.message;
  }
  return out;
}
