// Any path no route answers: the "page not found" page (or JSON under /api).
import type { AppContext } from "../lib/web/http.ts";
import { errorPage } from "../lib/web/error_pages.tsx";

export function notFound(c: AppContext) {
  return errorPage(c, "not_found");
}
