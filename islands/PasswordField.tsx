// A password input with a show/hide toggle and, for new passwords, a strength
// meter that applies the server's own rules (lib/security/password_rules.ts). Without
// JavaScript it is a plain password input: the toggle stays hidden.
import { useEffect, useRef, useState } from "preact/hooks";
import { Field } from "../components/Field.tsx";
import {
  passwordScore,
  weakPasswordReason,
} from "../lib/security/password_rules.ts";
import { type Messages, translateFrom } from "./messages.ts";

/** Message keys (by prefix) this island needs besides its error's. */
export const PASSWORD_FIELD_MESSAGES = ["password_field."];

export interface PasswordFieldProps {
  messages: Messages;
  name: string;
  label: string;
  autocomplete: "new-password" | "current-password";
  hint?: string;
  /** A message key, present in `messages`. */
  error?: string;
  /** Show the strength meter (new passwords only). */
  meter?: boolean;
  /** Name and email: a password built from them scores zero. */
  personal?: string[];
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  /** Given when a form island owns the value. */
  value?: string;
  onInput?: (value: string) => void;
  onBlur?: () => void;
}

export function PasswordField(props: PasswordFieldProps) {
  const t = translateFrom(props.messages);
  const [own, setOwn] = useState("");
  const [visible, setVisible] = useState(false);
  const [ready, setReady] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setReady(true);
    // Whatever was typed or autofilled before the script arrived counts.
    if (props.value === undefined && input.current) {
      setOwn(input.current.value);
    }
  }, []);
  const value = props.value ?? own;
  const id = `field-${props.name}`;
  const meterId = `${id}-meter`;
  const score = weakPasswordReason(value, props.personal)
    ? 0
    : passwordScore(value);
  return (
    <Field
      t={t}
      name={props.name}
      type={visible ? "text" : "password"}
      label={props.label}
      hint={props.hint}
      error={props.error}
      value={value}
      autocomplete={props.autocomplete}
      required={props.required}
      minLength={props.minLength}
      maxLength={props.maxLength}
      describedBy={props.meter ? meterId : undefined}
      inputRef={input}
      onInput={(v) => {
        setOwn(v);
        props.onInput?.(v);
      }}
      onBlur={props.onBlur}
      addon={
        // Says what a press will do ("Show", then "Hide"); a label that
        // changes replaces aria-pressed, which would say it twice.


          <button
            type="button"
            class="reveal"
            hidden={!ready}
            aria-controls={id}
            aria-label={t(
              visible
                ? "password_field.hide_label"
                : "password_field.show_label",
            )}
            onClick={() => setVisible(!visible)}
          >
            {t(visible ? "password_field.hide" : "password_field.show")}
          </button>

      }
    >
      {props.meter && (
        <div class="meter" id={meterId} data-score={value ? score : undefined}>
          <div class="meter-bar" aria-hidden="true">
            <span />
          </div>
          <p class="meter-text" aria-live="polite">
            {value
              ? t("password_field.strength", {
                level: t(`password_field.level_${score}`),
              })
              : ""}
          </p>
        </div>
      )}
    </Field>
  );
}
