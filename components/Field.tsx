// A labelled input whose error is tied to it for screen readers, and the
// summary of a failed form. Browser-safe: the islands render these too.
import type { ComponentChildren, JSX, Ref } from "preact";
import type { Translate } from "../lib/i18n/i18n.ts";

export interface FieldProps {
  t: Translate;
  name: string;
  /** Defaults to field-<name>; set it when a page has two forms. */
  id?: string;
  label: string;
  type?: "text" | "email" | "password";
  value?: string;
  /** A message key. */
  error?: string;
  hint?: string;
  autocomplete?: string;
  required?: boolean;
  maxLength?: number;
  minLength?: number;
  /** More ids describing the input (e.g. a strength meter). */
  describedBy?: string;
  /** Beside the input, inside its frame (e.g. a show/hide button). */
  addon?: ComponentChildren;
  /** Under the hint (e.g. a strength meter). */
  children?: ComponentChildren;
  inputRef?: Ref<HTMLInputElement>;
  onInput?: (value: string) => void;
  onBlur?: () => void;
}

export function Field(props: FieldProps) {
  const id = props.id ?? `field-${props.name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [
    props.hint && hintId,
    props.describedBy,
    props.error && errorId,
  ].filter(Boolean).join(" ") || undefined;
  const onInput = props.onInput;
  // Preact types input attributes per `type`; the union here is checked by
  // FieldProps instead.
  const inputAttrs = {
    id,
    name: props.name,
    type: props.type ?? "text",
    value: props.value,
    autocomplete: props.autocomplete,
    required: props.required,
    maxLength: props.maxLength,
    minLength: props.minLength,
    "aria-invalid": props.error ? "true" : undefined,
    "aria-describedby": describedBy,
    ref: props.inputRef,
    onInput: onInput &&
      ((e: Event) => onInput((e.currentTarget as HTMLInputElement).value)),
    onBlur: props.onBlur,
  } as JSX.IntrinsicElements["input"];
  return (
    <div class={props.error ? "field has-error" : "field"}>
      <label for={id}>{props.label}</label>
      {props.hint && <p id={hintId} class="hint">{props.hint}</p>}
      <div class="control">
        <input {...inputAttrs} />
        {props.addon}
      </div>
      {props.children}
      {props.error && (
        <p id={errorId} class="error" role="alert">{props.t(props.error)}</p>
      )}
    </div>
  );
}

/**
 * Lists a failed form's errors, linked to their fields. `autofocus` moves
 * focus here on load without JavaScript; the form island focuses it after a
 * submit it stopped.
 */
export function ErrorSummary(
  props: { t: Translate; title: string; errors: Record<string, string> },
) {
  const entries = Object.entries(props.errors);
  if (!entries.length) return null;
  // A failure of the whole form (a wrong password) marks no field: saying
  // "fix the fields marked below" would send the person looking for one.
  const formOnly = entries.every(([field]) => field === "_form");
  return (
    <div
      class="error-summary"
      id="error-summary"
      role="alert"
      tabIndex={-1}
      autofocus
      aria-labelledby="error-summary-title"
    >
      <p id="error-summary-title">
        <strong>
          {formOnly ? entries.map(([, key]) => props.t(key)) : props.title}
        </strong>
      </p>
      {!formOnly && (
        <ul>
          {entries.map(([field, key]) => (
            <li key={field}>
              {field === "_form"
                ? props.t(key)
                : <a href={`#field-${field}`}>{props.t(key)}</a>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** "Your current password": the same field wherever a password is proven. */
export function CurrentPasswordField(
  { t, label, error }: { t: Translate; label: string; error?: string },
) {
  return (
    <Field
      t={t}
      name="current_password"
      type="password"
      label={label}
      error={error}
      autocomplete="current-password"
      required
    />
  );
}
