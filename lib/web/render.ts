// `c.render(<Body/>, { title, status })`: what a handler says to answer with
// a page. The renderer (set for every request in routes/_middleware.tsx)
// wraps the body in the frame of routes/_app.tsx, so a page never builds its
// own frame or reads the request's language, user and path itself.
import type { ComponentChildren } from "preact";
import type { ApiStatus } from "./api.ts";

/** The statuses a page is answered with: the API's, and 200. */
export type PageStatus = 200 | ApiStatus;

export interface PageProps {
  /** The page's own title; the frame adds the app's name. */
  title: string;
  status?: PageStatus;
  /** Scripts (served from /static) this page needs. */
  scripts?: string[];
  /**
   * Where the footer's language switcher comes back to: this request's path
   * unless given (a page rendered once for everyone names its bare path).
   */
  path?: string;
}

declare module "hono" {
  interface ContextRenderer {
    (
      content: ComponentChildren,
      props: PageProps,
    ): Response | Promise<Response>;
  }
}
