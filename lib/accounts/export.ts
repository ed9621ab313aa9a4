// "Take your data with you" (GDPR article 20): every record naming the
// person, table by table, as lib/accounts/personal_data.ts says to show it. Never a
// password hash, a token or a signed link (links are made when a mail is
// sent and kept nowhere).
import {
  findPersonalRecords,
  type PersonalTable,
  type PersonalTableName,
  personalTables,
  personOf,
} from "./personal_data.ts";
import type { User } from "./users.ts";

export const EXPORT_FORMAT = "cloud-user-personal-data";

export interface PersonalDataExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  /** Table → what it holds about the person (tables with nothing: []). */
  records: Partial<Record<PersonalTableName, unknown[]>>;
}

export async function exportPersonalData(
  kv: Deno.Kv,
  user: User,
  now: number,
): Promise<PersonalDataExport> {
  const records: PersonalDataExport["records"] = {};
  for (const [table, row] of Object.entries(personalTables)) {
    if ((row as PersonalTable).exported) {
      records[table as PersonalTableName] = [];
    }
  }
  const person = await personOf(kv, user);
  for await (const { table, entry } of findPersonalRecords(kv, person)) {
    const show = (personalTables[table] as PersonalTable).exported;
    if (show) records[table]!.push(show(entry));
  }
  return {
    format: EXPORT_FORMAT,
    exportedAt: new Date(now).toISOString(),
    records,
  };
}

/** The download's file name: the app's name and the day, nothing personal. */
export function exportFileName(appName: string, now: number): string {
  const slug = appName.toLowerCase().replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "account";
  return `${slug}-data-${new Date(now).toISOString().slice(0, 10)}.json`;
}
