// The one table of error pages: what went wrong → its status and its words.
// Pages get the frame with a link home; API paths get the JSON error shape
// with the same name as its code.
import { HTTPException } from "hono/http-exception";
import { Message } from "../../components/Message.tsx";
import { apiError, isApiPath } from "./api_errors.ts";
import type { AppContext } from "./http.ts";

export const ERROR_PAGES = {
  malformed: 400,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  unsupported: 415,
  server: 500,
  busy: 503,
} as const;

export type ErrorName = keyof typeof ERROR_PAGES;

/**
 * The page for a refusal a handler or middleware threw (a 4xx
 * HTTPException), or undefined: anything else is our fault, logged and a 500.
 */
export function refusalOf(err: unknown): ErrorName | undefined {
  if (!(err instanceof HTTPException) || err.status >= 500) return undefined;
  for (const [name, status] of Object.entries(ERROR_PAGES)) {
    if (status === err.status) return name as ErrorName;
  }
  return undefined;
}

export function errorPage(c: AppContext, name: ErrorName) {
  const status = ERROR_PAGES[name];
  if (isApiPath(c.req.path)) {
    return apiError(c, status, name, `error.${name}_body`);
  }
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
