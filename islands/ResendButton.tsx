// The resend form's "Send a new link". Without JavaScript it is the form's
// plain submit button. With it, the request goes to the JSON API, the neutral
// answer shows in place, and the button waits exactly as long as the server
// will: the 202's retry_after, or a 429's Retry-After. The page knows no
// limits of its own, so it cannot disagree with the server.
// Long by design: one component's countdown, request and answer states.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatWait } from "../lib/i18n/durations.ts";
import { type Messages, translateFrom } from "./messages.ts";

/** Message keys (by prefix) this island needs. */
export const RESEND_BUTTON_MESSAGES = [
  "resend.submit",
  "resend.too_soon",
  "resend.wait",
  "resend.ready",
  "api.resend_accepted",
];

export interface ResendButtonProps {
  messages: Messages;
  /** After a 429 the page rendered: the wait it said. */
  waitSeconds?: number;
}

/** 75 → "1:15": what the button shows while it waits. */
function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function ResendButton({ messages, waitSeconds }: ResendButtonProps) {
  const t = translateFrom(messages);
  const button = useRef<HTMLButtonElement>(null);
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  /** Epoch ms when the server will take the next request; 0: now. */
  const [until, setUntil] = useState(0);
  const [left, setLeft] = useState(0);
  const [answer, setAnswer] = useState("");
  /** Said once at the start of a wait and once at its end, never per tick. */
  const [note, setNote] = useState("");

  const wait = (seconds: number, text: string) => {
    const s = Math.max(1, Math.ceil(seconds) || 1);
    setAnswer(text);
    setNote(t("resend.wait", {
      when: formatWait(s * 1000, document.documentElement.lang || "en"),
    }));
    setLeft(s);
    setUntil(Date.now() + s * 1000);
  };

  useEffect(() => {
    const form = button.current?.form;
    if (!form) return;
    let sending = false;
    const onSubmit = async (e: SubmitEvent) => {
      e.preventDefault();
      if (sending) return;
      sending = true;
      setBusy(true);
      const email = new FormData(form).get("email");
      try {
        const res = await fetch("/api/activation/resend", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email }),
        });
        if (res.status === 202) {
          const body = await res.json();
          wait(body.retry_after, t("api.resend_accepted"));
        } else if (res.status === 429) {
          await res.body?.cancel();
          wait(Number(res.headers.get("retry-after")), t("resend.too_soon"));
        } else {
          // A bad address, an outage: the server's page says it best.
          form.submit();
        }
      } catch {
        form.submit();
      } finally {
        sending = false;
        setBusy(false);
      }
    };
    form.addEventListener("submit", onSubmit);
    setReady(true);
    if (waitSeconds) wait(waitSeconds, "");
    return () => form.removeEventListener("submit", onSubmit);
  }, []);

  useEffect(() => {
    if (!until) return;
    // Counted from the clock, not the ticks: a background tab's timers lag.
    const tick = () => {
      const ms = until - Date.now();
      if (ms > 0) return setLeft(Math.ceil(ms / 1000));
      setUntil(0);
      setNote(t("resend.ready"));
    };
    const id = setInterval(tick, 250);
    return () => clearInterval(id);
  }, [until]);

  const waiting = until > 0;
  return (
    <>
      <button ref={button} type="submit" disabled={busy || waiting}>
        {waiting
          ? t("resend.wait_button", { time: clock(left) })
          : t("resend.submit")}
      </button>
      {
        // Only where the button sends in place; there before its first answer
        // so that screen readers follow it.
        ready && (
          <p class="resend-status" role="status" aria-atomic="false">
            {answer && <span>{answer}</span>}
            {note && <span class="visually-hidden">{` ${note}`}</span>}
          </p>
        )
      }
    </>
  );
}
