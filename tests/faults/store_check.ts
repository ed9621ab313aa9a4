// After a race or a fault: does every KV record parse with its schema, and do
// the user records and the email index agree? Returns the problems found.
import { z } from "zod";
import { keys } from "../../lib/kv/keys.ts";
import { recordSchemas } from "../../lib/app/records.ts";
import { UserSchema } from "../../lib/accounts/users.ts";

export async function checkStore(kv: Deno.Kv, now: number): Promise<string[]> {
  const problems: string[] = [];
  const users = new Map<string, { email: string; live: boolean }>();
  const index = new Map<string, string>();
  for await (const entry of kv.list({ prefix: [] })) {
    const [table] = entry.key;
    const where = JSON.stringify(entry.key);
    const schema = Object.hasOwn(recordSchemas, String(table))
      ? recordSchemas[String(table)]
      : undefined;
    if (schema) {
      const parsed = z.safeParse(schema, entry.value);
      if (!parsed.success) problems.push(`${where} fails its schema`);
    }
    if (table === "users") {
      const user = UserSchema.safeParse(entry.value);
      if (user.success) {
        const live = user.data.pendingUntil === null ||
          user.data.pendingUntil > now;
        users.set(user.data.id, { email: user.data.email, live });
      }
    } else if (table === "users_by_email") {
      index.set(String(entry.key[1]), String(entry.value));
    } else if (!schema) {
      problems.push(`${where}: unknown table`);
    }
  }
  for (const [email, id] of index) {
    const user = users.get(id);
    if (!user) problems.push(`index ${email} → missing user ${id}`);
    else if (user.email !== email) problems.push(`index ${email} → ${id}`);
  }
  for (const [id, user] of users) {
    // A stale pending record KV has not collected yet is not an orphan only
    // while its index still points at it (the next registration replaces
    // both in one commit).
    if (index.get(user.email) !== id) {
      problems.push(`user ${id} (${user.email}, live=${user.live}) unindexed`);
    }
  }
  return problems;
}

export { keys };
