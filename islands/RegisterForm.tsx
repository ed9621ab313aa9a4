// The registration form, validated live with the server's own schema
// (lib/accounts/schemas.ts RegisterSchema): a field's message appears when the person
// leaves it and updates as they fix it; a submit with errors is stopped and
// the summary focused. Without JavaScript the server does all of this.
// Long by design: one component's state (values, touched fields, errors)
// and its markup, which must match the server-rendered form exactly.
import { useEffect, useRef, useState } from "preact/hooks";
import { ErrorSummary, Field } from "../components/Field.tsx";
import { PASSWORD_MIN } from "../lib/security/password_rules.ts";
import {
  type FieldErrors,
  fieldErrors,
  FIRST_NAME_MAX,
  RegisterSchema,
} from "../lib/accounts/schemas.ts";
import { type Messages, translateFrom } from "./messages.ts";
import { PasswordPair } from "./NewPassword.tsx";
import { WaitButton } from "./WaitButton.tsx";

/** Message keys (by prefix) this island needs. */
export const REGISTER_FORM_MESSAGES = [
  "register.",
  "first_name.",
  "email.",
  "password.",
  "password_confirm.",
  "password_field.",
  "limit.wait_button",
];

const FIELDS = ["first_name", "email", "password", "password_confirm"] as const;
type Values = Record<typeof FIELDS[number], string>;

export interface RegisterFormProps {
  messages: Messages;
  /** Typed values to keep; never the password. */
  values: { first_name?: string; email?: string };
  errors: FieldErrors;
  /** After a 429: seconds until the server takes the form again. */
  waitSeconds?: number;
}

function check(values: Values, shown: Set<string>): FieldErrors {
  const res = RegisterSchema.safeParse(values);
  if (res.success) return {};
  const all = fieldErrors(res.error);
  return Object.fromEntries(Object.entries(all).filter(([f]) => shown.has(f)));
}

export function RegisterForm(props: RegisterFormProps) {
  const t = translateFrom(props.messages);
  const [values, setValues] = useState<Values>({
    first_name: props.values.first_name ?? "",
    email: props.values.email ?? "",
    password: "",
    password_confirm: "",
  });
  const [errors, setErrors] = useState<FieldErrors>(props.errors);
  const [summary, setSummary] = useState<FieldErrors>(props.errors);
  // Fields whose messages show: left once, or sent back with an error.
  const [shown, setShown] = useState(() => new Set(Object.keys(props.errors)));
  const [stopped, setStopped] = useState(0);
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    // Text typed or autofilled before the script arrived counts.
    const el = form.current;
    if (!el) return;
    const read = (name: string) =>
      (el.elements.namedItem(name) as HTMLInputElement | null)?.value ?? "";
    setValues(
      Object.fromEntries(FIELDS.map((f) => [f, read(f)])) as Values,
    );
  }, []);
  useEffect(() => {
    if (stopped) document.getElementById("error-summary")?.focus();
  }, [stopped]);

  const update = (name: keyof Values) => (value: string) => {
    const next = { ...values, [name]: value };
    setValues(next);
    setErrors(check(next, shown));
  };
  const leave = (name: keyof Values) => () => {
    // Tabbing through an empty field is not a mistake yet: its message
    // waits for a submit.
    if (!values[name] && !shown.has(name)) return;
    const next = new Set(shown).add(name);
    setShown(next);
    setErrors(check(values, next));
  };
  const onSubmit = (e: Event) => {
    const all = new Set<string>(FIELDS);
    const found = check(values, all);
    if (Object.keys(found).length === 0) return;
    e.preventDefault();
    setShown(all);
    setErrors(found);
    setSummary(found);
    setStopped(stopped + 1);
  };

  const personal = [values.email, values.first_name];
  // The summary lists what a submit found, less what has been fixed since,
  // each with its message now: it never tells someone to fix a fixed field.
  const open = Object.fromEntries(
    Object.keys(summary).flatMap((f) =>
      f === "_form" ? [[f, summary[f]]] : errors[f] ? [[f, errors[f]]] : []
    ),
  );
  return (
    <>
      <ErrorSummary t={t} title={t("register.errors_title")} errors={open} />
      <form
        ref={form}
        method="post"
        action="/register"
        novalidate
        onSubmit={onSubmit}
      >
        <Field
          t={t}
          name="first_name"
          label={t("register.first_name")}
          value={values.first_name}
          error={errors.first_name}
          autocomplete="given-name"
          required
          maxLength={FIRST_NAME_MAX}
          onInput={update("first_name")}
          onBlur={leave("first_name")}
        />
        <Field
          t={t}
          name="email"
          type="email"
          label={t("register.email")}
          value={values.email}
          error={errors.email}
          autocomplete="email"
          required
          onInput={update("email")}
          onBlur={leave("email")}
        />
        <PasswordPair
          messages={props.messages}
          labels={{
            password: t("register.password"),
            hint: t("register.password_hint", { min: PASSWORD_MIN }),
            confirm: t("register.password_confirm"),
          }}
          values={values}
          errors={errors}
          personal={personal}
          onInput={(name, value) => update(name)(value)}
          onBlur={(name) => leave(name)()}
        />
        <WaitButton
          messages={props.messages}
          label={t("register.submit")}
          seconds={props.waitSeconds ?? 0}
        />
      </form>
    </>
  );
}
