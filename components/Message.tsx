// A page that only says something: errors, notices, "check your inbox".
import type { ComponentChildren } from "preact";
import type { PageInfo } from "../lib/http.ts";
import { Layout } from "./Layout.tsx";

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

/** "Check your inbox": the answer to every request that may send a mail. */
export function CheckInboxPage(
  props: {
    page: PageInfo;
    title: string;
    body: string;
    children?: ComponentChildren;
  },
) {
  return (
    <Layout page={props.page} title={props.title}>
      <Message title={props.title} body={props.body}>
        <p class="aside">{props.page.t("done.spam")}</p>
      </Message>
      {props.children}
    </Layout>
  );
}
