// What a thrown error becomes. A refusal (a 4xx a handler or middleware threw)
// gets its page from the table in lib/web/error_pages.tsx; a busy hashing
// pool is a 503 with Retry-After, nothing written; anything else is our
// fault: logged with its stack, and the person sees "something went wrong",
// never the error.
import type { ErrorHandler } from "hono";
import { InputRefused } from "../lib/web/input.ts";
import type { AppDeps } from "../lib/app/deps.ts";
import type { AppContext, AppEnv } from "../lib/web/http.ts";
import { errorPage, refusalOf } from "../lib/web/error_pages.tsx";
import { loggedPath } from "../lib/web/request_log.ts";
import { PasswordsBusyError } from "../lib/security/passwords.ts";

export function onError({ log }: AppDeps): ErrorHandler<AppEnv> {
  return (err, ctx) => {
    const c = ctx as AppContext;
    // A refusal that came with its answer (readJson's): that answer.
    if (err instanceof InputRefused) return err.getResponse();
    const refusal = refusalOf(err);
    if (refusal) return errorPage(c, refusal);
    if (err instanceof PasswordsBusyError) {
      c.header("Retry-After", String(err.retryAfterSeconds));
      return errorPage(c, "busy");
    }
    log.error("unhandled error", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: loggedPath(c),
      error: err, // logged with its stack (error_stack)
    });
    return errorPage(c, "server");
  };
}
