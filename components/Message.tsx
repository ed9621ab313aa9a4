// A page that only says something: errors, notices, "check your inbox".
import type { ComponentChildren } from "preact";

export function Message(
  props: { title: string; body: string; children?: ComponentChildren },
) {
  return (
    <section>
      <h1>{props.title}</h1>
      <p>{props.body}</p>
      {props.children}
    </section>
  );
}
