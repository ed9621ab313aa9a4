// A form's submit button after a 429: the page says in words how long to
// wait; where JavaScript runs, the button also stays disabled and counts down
// until the server will take the form again. Without JavaScript it is the
// ordinary button (a disabled one could never be pressed again).
import { useEffect, useState } from "preact/hooks";
import { type Messages, translateFrom } from "./messages.ts";

export const WAIT_BUTTON_MESSAGES = ["limit.wait_button"];

export interface WaitButtonProps {
  messages: Messages;
  label: string;
  /** The server's Retry-After; 0: no wait. */
  seconds: number;
  /** The label while it waits, a key in `messages` with {time}. */
  waitKey?: string;
}

/** 75 → "1:15". */
export function clockTime(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function WaitButton(
  { messages, label, seconds, waitKey = "limit.wait_button" }: WaitButtonProps,
) {
  const t = translateFrom(messages);
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (seconds <= 0) return;
    // Counted from the clock, not the ticks: a background tab's timers lag.
    const until = Date.now() + seconds * 1000;
    const tick = () =>
      setLeft(Math.max(0, Math.ceil((until - Date.now()) / 1000)));
    tick();
    const id = setInterval(tick, 250);
    return () => clearInterval(id);
  }, [seconds]);
  return (
    <button type="submit" class="primary" disabled={left > 0}>
      {left > 0 ? t(waitKey, { time: clockTime(left) }) : label}
    </button>
  );
}
