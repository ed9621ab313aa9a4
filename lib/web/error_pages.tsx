// The one table of error pages: what went wrong → its status and its words.
// Pages get the frame with a link home; API paths get the JSON error shape
// with the same name as its code.
import { HTTPException } from "hono/http-exception";
import { Message } from "../../components/Message.tsx";
import { apiError, type ApiErrorCode, isApiPath } from "./api.ts";
import type { PageStatus } from "./render.ts";
import type { AppContext } from "./http.ts";

export const ERROR_PAGES = {
  malformed: { status: 400, api: "malformed" },
  forbidden: { status: 403, api: "forbidden" },
  not_found: { status: 404, api: "not_found" },
  too_large: { status: 413, api: "too_large" },
  unsupported: { status: 415, api: "unsupported" },
  server: { status: 500, api: "server" },
  // The API's "try again" (409 `busy` is another request using the link).
  busy: { status: 503, api: "unavailable" },
} as const satisfies Record<
  string,
  { status: PageStatus; api: ApiErrorCode }
>;

export type ErrorName = keyof typeof ERROR_PAGES;

/**
 * The page for a refusal a handler or middleware threw (a 4xx
 * HTTPException), or undefined: anything else is our fault, logged and a 500.
 */
export function refusalOf(err: unknown): ErrorName | undefined {
  if (!(err instanceof HTTPException) || err.status >= 500) return undefined;
  for (const [name, { status }] of Object.entries(ERROR_PAGES)) {
    if (status === err.status) return name as ErrorName;
  }
  return undefined;
}

export function errorPage(c: AppContext, name: ErrorName) {
  const { status, api } = ERROR_PAGES[name];
  if (isApiPath(c.req.path)) return apiError(c, api, `error.${name}_body`);
  const t = c.get("t");
  return c.render(
    <Message title={t(`error.${name}_title`)} body={t(`error.${name}_body`)}>
      <p>
        <a href="/">{t("error.home")}</a>
      </p>
    </Message>,
    { title: t(`error.${name}_title`), status },
  );
}
