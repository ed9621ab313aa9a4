// Reading a request's input, forms and JSON alike: the handler gets input it
// can use, and anything else is thrown as a refusal answered for it — a
// body of the wrong type (415) or that does not parse (400) by the error
// page (or its JSON under /api, routes/_500.tsx), JSON fields that fail the
// schema by a 422 naming each field. A page validates its form itself,
// since its 422 is the same form again with the messages beside the fields.
import { HTTPException } from "hono/http-exception";
import * as z from "zod/mini";
import { fieldErrors } from "../accounts/schemas.ts";
import { apiError, type ApiStatus } from "./api.ts";
import type { AppContext } from "./http.ts";

export const FORM_TYPE =
  /^(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i;

/**
 * Form bodies as plain strings; a repeated field keeps its last value. Any
 * other Content-Type is a 415: parsed as an empty form it would answer "fill
 * in every field", which is wrong and hides the caller's mistake. A body
 * that does not parse as the form it claims to be is a 400.
 */
export async function readForm(
  c: AppContext,
): Promise<Record<string, string>> {
  if (!FORM_TYPE.test(c.req.header("content-type") ?? "")) {
    throw new HTTPException(415);
  }
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody();
  } catch (cause) {
    // A multipart body without its boundary, or cut short: the client's
    // mistake, a 400, not a failure of ours.
    throw new HTTPException(400, { cause });
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === "string") out[name] = value;
  }
  return out;
}

/** Input refused with its answer ready (routes/_500.tsx sends it). */
export class InputRefused extends HTTPException {
  constructor(res: Response) {
    super(res.status as ApiStatus, { res });
  }
}

/**
 * Validated JSON input. Like readForm for pages, a body that cannot be taken
 * is thrown as a refusal (415 not JSON, 400 not an object, 422 fields that do
 * not pass the schema, with each field's message): the handler only sees
 * input it can use, and routes/_500.tsx answers with the prepared response.
 */
export async function readJson<T>(
  c: AppContext,
  schema: z.core.$ZodType<T>,
): Promise<T> {
  const refuse = (res: Response): never => {
    throw new InputRefused(res);
  };
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    refuse(apiError(c, "unsupported_media_type", "api.json_only"));
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    refuse(apiError(c, "invalid_json", "api.invalid_json"));
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    refuse(apiError(c, "invalid_json", "api.object_expected"));
  }
  const parsed = z.safeParse(schema, body);
  if (parsed.success) return parsed.data;
  return refuse(apiError(
    c,
    "validation_failed",
    "register.errors_title",
    fieldErrors(parsed.error),
  ));
}
