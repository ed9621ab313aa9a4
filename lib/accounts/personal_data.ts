// Where the store keeps data about a person, in one table: every KV table
// (a key's first part, see lib/kv/keys.ts) that names someone, and how.
// The export (lib/accounts/export.ts) and the deletion (lib/accounts/deletion.ts)
// both read it, so a new kind of record is exported and deleted by adding one
// row. tests/lib/personal_data_test.ts fails while a table of
// lib/app/records.ts is neither here nor in NOT_PERSONAL.
import { keys } from "../kv/keys.ts";
import { canonicalMailbox } from "../outbox/mail_budget.ts";
import type { OutboxEntry } from "../outbox/signals.ts";

/** Whose data: the account's id and its address (lower-cased, as stored). */
export interface Person {
  id: string;
  email: string;
  /**
   * Addresses the account recently had or asked for (an email change's
   * pending new address, the old address of a change it can still undo):
   * records keyed by them name the person too (a login attempt under the
   * old address, a cooldown under the address asked for).
   */
  formerEmails?: string[];
}

/** The person behind `user`, with the addresses its email changes touched. */
export async function personOf(
  kv: Deno.Kv,
  user: { id: string; email: string },
): Promise<Person> {
  const others = new Set<string>();
  const change = await kv.get<{ toEmail: string }>(keys.emailChange(user.id));
  if (change.value) others.add(change.value.toEmail);
  const undos = kv.list<{ fromEmail: string; toEmail: string }>({
    prefix: keys.emailUndos(user.id),
  });
  for await (const undo of undos) {
    others.add(undo.value.fromEmail);
    others.add(undo.value.toEmail);
  }
  others.delete(user.email);
  return { id: user.id, email: user.email, formerEmails: [...others] };
}

type Entry = Deno.KvEntry<unknown>;

export interface PersonalTable {
  /** How its records name the person. */
  names: "user id" | "address" | "value";
  /** The person's records in the table. */
  find(kv: Deno.Kv, person: Person): AsyncIterable<Entry>;
  /**
   * What the export shows of one record (never a password hash, a token or
   * a signed link); null: nothing (an index or a lock whose content the
   * export already holds or that says nothing about the person).
   */
  exported: ((entry: Entry) => unknown) | null;
  /** What deleting one record takes; absent: a delete of its key. */
  removal?(entry: Entry): Deno.KvMutation[];
}

/** Tables that hold nothing naming a person, and why. */
export const NOT_PERSONAL: Readonly<Record<string, string>> = {
  signals_undelivered:
    "an outbox id only, written by the KV queue; deleted with its entry",
  counters: "totals over every account",
  mail_budget: "mails per recipient domain and hour",
  dev_secret_key: "the signing key of a development instance",
};

/** The spellings an address is counted under: as stored, and its mailbox. */
export function addressForms(email: string): string[] {
  return [...new Set([email.toLowerCase(), canonicalMailbox(email)])];
}

/**
 * Whether a rate-limit subject is about the address: the address itself, its
 * canonical mailbox, or either followed by a client ("ada@x 192.0.2.1").
 * A subject of 256+ characters is kept as its SHA-256 (kv/keys.ts boundedPart)
 * and names nobody readable; it lapses with its window.
 */
export function subjectNames(subject: unknown, email: string): boolean {
  if (typeof subject !== "string") return false;
  return addressForms(email).some((form) =>
    subject === form || subject.startsWith(`${form} `)
  );
}

async function* one(kv: Deno.Kv, key: Deno.KvKey): AsyncIterable<Entry> {
  const entry = await kv.get(key);
  if (entry.versionstamp !== null) yield entry as Entry;
}

async function* scan(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  keep: (entry: Entry) => boolean,
): AsyncIterable<Entry> {
  for await (const entry of kv.list({ prefix }, { batchSize: 500 })) {
    if (keep(entry)) yield entry;
  }
}

/** Records listed under `[table, <each spelling of the address>, …]`. */
async function* underAddress(
  kv: Deno.Kv,
  table: string,
  email: string,
): AsyncIterable<Entry> {
  for (const form of addressForms(email)) {
    yield* kv.list({ prefix: [table, form] });
  }
}

function outboxNames(value: unknown, person: Person): boolean {
  const signal = (value as OutboxEntry).signal as Record<string, unknown>;
  return signal.userId === person.id || signal.email === person.email;
}

/** An outbox entry as its person sees it: what mail, and how it is going. */
function exportedMail({ value }: Entry) {
  const entry = value as OutboxEntry & { deadAt?: number };
  return {
    id: entry.id,
    mail: entry.signal.type,
    createdAt: entry.createdAt,
    attempts: entry.attempts,
    lastAttemptAt: entry.lastAttemptAt,
    lastError: entry.lastError,
    ...(entry.deadAt === undefined ? {} : { gaveUpAt: entry.deadAt }),
  };
}

/** A rate-limit record: which rule, under which subject, and its value. */
function exportedLimit({ key, value }: Entry) {
  return { key: key.slice(1), value };
}

export const personalTables = {
  users: {
    names: "user id",
    find: (kv, { id }) => one(kv, keys.user(id)),
    exported: ({ value }) => {
      const {
        passwordHash: _hash,
        registrant: _registrant,
        tokenVersion: _version,
        credentialEpoch: _epoch,
        ...profile
      } = value as Record<string, unknown>;
      return profile;
    },
  },
  users_by_email: {
    names: "address",
    find: async function* (kv, person) {
      for await (const entry of one(kv, keys.userByEmail(person.email))) {
        if (entry.value === person.id) yield entry;
      }
    },
    exported: null,
  },
  sessions: {
    names: "value",
    // Through the per-user index: sessions are keyed by a hash of the cookie.
    find: async function* (kv, { id }) {
      for await (const index of kv.list({ prefix: keys.userSessions(id) })) {
        const entry = await kv.get(keys.session(String(index.key.at(-1))));
        const value = entry.value as { userId?: string } | null;
        if (value?.userId === id) yield entry as Entry;
      }
    },
    // The key is the cookie's SHA-256: left out with the epoch.
    exported: ({ value }) => {
      const { epoch: _epoch, ...session } = value as Record<string, unknown>;
      return session;
    },
  },
  sessions_by_user: {
    names: "user id",
    find: (kv, { id }) => kv.list({ prefix: keys.userSessions(id) }),
    exported: null,
  },
  /** The pending email change: the address asked for, and when. */
  email_changes: {
    names: "user id",
    // One record under the id itself (a prefix list would skip it).
    find: async function* (kv, { id }) {
      const entry = await kv.get(keys.emailChange(id));
      if (entry.versionstamp !== null) yield entry as Entry;
    },
    exported: (e) => e.value,
  },
  /** Past email changes the old address can still undo. */
  email_undos: {
    names: "user id",
    find: (kv, { id }) => kv.list({ prefix: keys.emailUndos(id) }),
    exported: (e) => e.value,
  },
  audit_events: {
    names: "user id",
    // Security events: what happened, when, from which device and network.
    find: (kv, { id }) => kv.list({ prefix: keys.auditEvents(id) }),
    exported: ({ value }) => value,
  },
  outbox: {
    names: "value",
    find: (kv, person) =>
      scan(kv, keys.outbox(), (e) => outboxNames(e.value, person)),
    exported: exportedMail,
    removal: ({ key }) => [
      { type: "delete", key },
      { type: "delete", key: keys.undelivered(String(key[1])) },
      // /healthz's backlog counts it done, as a delivered entry is.
      { type: "sum", key: keys.outboxDone(), value: new Deno.KvU64(1n) },
    ],
  },
  outbox_dead: {
    names: "value",
    find: (kv, person) =>
      scan(kv, keys.deadLetters(), (e) => outboxNames(e.value, person)),
    exported: exportedMail,
  },
  rate_limits: {
    names: "address",
    // Keys are [table, rule, subject, window]: the rule comes first, so
    // the (short-lived) table is read through.
    find: (kv, { email }) =>
      scan(kv, ["rate_limits"], (e) => subjectNames(e.key[2], email)),
    exported: exportedLimit,
  },
  cooldowns: {
    names: "address",
    find: (kv, { email }) =>
      scan(kv, ["cooldowns"], (e) => subjectNames(e.key[2], email)),
    exported: exportedLimit,
  },
  login_attempts: {
    names: "address",
    find: (kv, { email }) => underAddress(kv, "login_attempts", email),
    exported: exportedLimit,
  },
  login_failures: {
    names: "address",
    find: (kv, { email }) => underAddress(kv, "login_failures", email),
    exported: exportedLimit,
  },
  hash_turns: {
    names: "user id",
    // A password change's lock (a minute at most); link turns hold a hash.
    find: (kv, { id }) => one(kv, keys.hashTurn(`account:${id}`)),
    exported: null,
  },
} satisfies Record<string, PersonalTable>;

export type PersonalTableName = keyof typeof personalTables;

/** Every record naming the person, table by table, in the table's order. */
export async function* findPersonalRecords(
  kv: Deno.Kv,
  person: Person,
): AsyncIterable<{ table: PersonalTableName; entry: Entry }> {
  const seen = new Set<string>();
  const former = (person.formerEmails ?? []).map((email) => ({
    ...person,
    email,
  }));
  for (const [table, row] of Object.entries(personalTables)) {
    const { names, find } = row as PersonalTable;
    // The unique index of an address the account left may be someone
    // else's now: only the account's own address is its index.
    const whom = names === "address" && table !== "users_by_email"
      ? [person, ...former]
      : [person];
    for (const one of whom) {
      for await (const entry of find(kv, one)) {
        // Two spellings of one address may list a record twice.
        const id = JSON.stringify(entry.key);
        if (seen.has(id)) continue;
        seen.add(id);
        yield { table: table as PersonalTableName, entry };
      }
    }
  }
}
