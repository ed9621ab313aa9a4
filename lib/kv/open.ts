// Opens the app's KV database from KV_PATH, so main.ts and the operator
// scripts fail the same way: one line that says what to change, never a
// permission stack trace.
import { isRemoteKv } from "../app/config.ts";

/** A start-up failure the operator can fix; main.ts prints only the message. */
export class StartupError extends Error {
  override name = "StartupError";
}

/**
 * `path` undefined is Deno's default database (the managed KV on Deploy).
 * A file's folder is created; without write access to it the error names the
 * folder and the flag.
 */
export async function openKv(
  path: string | undefined,
  { create = true } = {},
): Promise<Deno.Kv> {
  if (!path || path === ":memory:" || isRemoteKv(path)) {
    return await Deno.openKv(path);
  }
  const dir = path.includes("/") ? path.replace(/\/[^/]*$/, "") || "/" : ".";
  const need = create ? "write" : "read";
  const allowed = await Deno.permissions.query({ name: need, path: dir });
  if (allowed.state !== "granted") {
    throw new StartupError(
      `KV_PATH: this process may not ${need} ${dir}; ` +
        (need === "write"
          ? `\`deno task start\` writes only under ./data: run \`deno run -A main.ts\` or add --allow-write=${dir}`
          : `run with --allow-read=${dir}`),
    );
  }
  if (create) {
    await Deno.mkdir(dir, { recursive: true });
  } else {
    try {
      await Deno.lstat(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      throw new StartupError(`KV_PATH: ${path} does not exist`);
    }
  }
  return await Deno.openKv(path);
}
