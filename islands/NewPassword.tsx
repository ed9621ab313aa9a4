// Choosing a new password, the same on every page that asks for one
// (registration, reset, change, activation): the password with show/hide and
// the strength meter, its confirmation, and live checks on the server's own
// schema. A message appears once a field is left with something in it, or
// on a submit, and updates as the person types (so a mismatch shows once the
// confirmation is left, and goes as soon as it matches). Without JavaScript
// the server checks it all.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  type FieldErrors,
  fieldErrors,
  ResetPasswordSchema,
} from "../lib/accounts/schemas.ts";
import {
  PASSWORD_MAX,
  PASSWORD_MIN,
  weakPasswordReason,
} from "../lib/security/password_rules.ts";
import type { Messages } from "./messages.ts";
import { PasswordField } from "./PasswordField.tsx";

/** Message keys (by prefix) the pair needs besides its labels. */
export const NEW_PASSWORD_MESSAGES = [
  "password.",
  "password_confirm.",
  "password_field.",
];

export interface PasswordPairProps {
  messages: Messages;
  /** Translated: the new password's label, its hint, the confirmation's. */
  labels: { password: string; hint: string; confirm: string };
  values: { password: string; password_confirm: string };
  errors: FieldErrors;
  /** Name and email: a password built from them is weak. */
  personal?: string[];
  onInput: (name: "password" | "password_confirm", value: string) => void;
  onBlur: (name: "password" | "password_confirm") => void;
}

/** The two fields, for a form island that owns their values (RegisterForm). */
export function PasswordPair(props: PasswordPairProps) {
  return (
    <>
      <PasswordField
        messages={props.messages}
        name="password"
        label={props.labels.password}
        hint={props.labels.hint}
        error={props.errors.password}
        autocomplete="new-password"
        meter
        personal={props.personal}
        required
        minLength={PASSWORD_MIN}
        maxLength={PASSWORD_MAX}
        value={props.values.password}
        onInput={(v) => props.onInput("password", v)}
        onBlur={() => props.onBlur("password")}
      />
      <PasswordField
        messages={props.messages}
        name="password_confirm"
        label={props.labels.confirm}
        error={props.errors.password_confirm}
        autocomplete="new-password"
        required
        value={props.values.password_confirm}
        onInput={(v) => props.onInput("password_confirm", v)}
        onBlur={() => props.onBlur("password_confirm")}
      />
    </>
  );
}

type Pair = PasswordPairProps["values"];

/** The schema's messages, and a password built from the person's own words. */
export function checkPair(
  values: Pair,
  personal: string[] = [],
): FieldErrors {
  const res = ResetPasswordSchema.safeParse(values);
  const errors = res.success ? {} : fieldErrors(res.error);
  const reason = values.password.length >= PASSWORD_MIN &&
    weakPasswordReason(values.password, personal);
  if (!errors.password && reason) {
    errors.password = `password.weak_${reason}`;
  }
  return errors;
}

export interface NewPasswordProps {
  messages: Messages;
  labels: PasswordPairProps["labels"];
  /** The server's messages for a form it sent back. */
  errors: FieldErrors;
  personal?: string[];
}

/** The pair on a form the server renders (reset, change, activation). */
export function NewPassword(props: NewPasswordProps) {
  const [values, setValues] = useState<Pair>({
    password: "",
    password_confirm: "",
  });
  const [errors, setErrors] = useState<FieldErrors>(props.errors);
  const [shown, setShown] = useState(() => new Set(Object.keys(props.errors)));
  const box = useRef<HTMLDivElement>(null);
  const latest = useRef(values);
  latest.current = values;

  const pick = (all: FieldErrors, fields: Set<string>) =>
    Object.fromEntries(Object.entries(all).filter(([f]) => fields.has(f)));

  useEffect(() => {
    const form = box.current?.closest("form");
    if (!form) return;
    // Text typed or autofilled before the script arrived counts.
    const read = (name: string) =>
      (form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? "";
    setValues({
      password: read("password"),
      password_confirm: read("password_confirm"),
    });
    // A submit with a mismatch or a weak password stays here, its messages
    // shown and the first field with one focused.
    const onSubmit = (e: SubmitEvent) => {
      const found = checkPair(latest.current, props.personal);
      const first = ["password", "password_confirm"].find((f) => found[f]);
      if (!first) return;
      e.preventDefault();
      setShown(new Set(["password", "password_confirm"]));
      setErrors(found);
      form.querySelector<HTMLInputElement>(`#field-${first}`)?.focus();
    };
    form.addEventListener("submit", onSubmit);
    return () => form.removeEventListener("submit", onSubmit);
  }, []);

  return (
    <div ref={box} class="new-password">
      <PasswordPair
        messages={props.messages}
        labels={props.labels}
        values={values}
        errors={errors}
        personal={props.personal}
        onInput={(name, value) => {
          const next = { ...values, [name]: value };
          setValues(next);
          setErrors(pick(checkPair(next, props.personal), shown));
        }}
        onBlur={(name) => {
          // Tabbing through an empty field is not a mistake yet.
          if (!values[name] && !shown.has(name)) return;
          const next = new Set(shown).add(name);
          setShown(next);
          setErrors(pick(checkPair(values, props.personal), next));
        }}
      />
    </div>
  );
}
