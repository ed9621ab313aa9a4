// Every Deno KV key the app uses, in one place. Indexes hold ids, never copies
// of records, so they cannot drift out of date.

export const keys = {
  user: (id: string) => ["users", id] as const,
  users: () => ["users"] as const,
  userByEmail: (email: string) => ["users_by_email", email] as const,
  /** Sessions are stored under the SHA-256 of their id, never the id itself. */
  session: (idHash: string) => ["sessions", idHash] as const,
  userSession: (userId: string, idHash: string) =>
    ["sessions_by_user", userId, idHash] as const,
  userSessions: (userId: string) => ["sessions_by_user", userId] as const,
  outboxEntry: (id: string) => ["outbox", id] as const,
  outbox: () => ["outbox"] as const,
  /** Outbox entries that stopped retrying, kept for the operator. */
  deadLetter: (id: string) => ["outbox_dead", id] as const,
  deadLetters: () => ["outbox_dead"] as const,
  /** Written by the KV queue itself when it gives up on a message. */
  undelivered: (id: string) => ["signals_undelivered", id] as const,
  undeliveredAll: () => ["signals_undelivered"] as const,
  /** One counter per rule, subject (an IP or email) and fixed window. */
  rateLimit: (rule: string, subject: string, windowStart: number) =>
    ["rate_limits", rule, subject, windowStart] as const,
  /** When a subject may pass a cooldown rule again (epoch ms). */
  cooldown: (rule: string, subject: string) =>
    ["cooldowns", rule, subject] as const,
  /** Failed sign-ins per address and client: one client cannot lock out another. */
  loginAttempts: (email: string, from: string) =>
    ["login_attempts", email, from] as const,
  loginAttemptsOf: (email: string) => ["login_attempts", email] as const,
  /** The signing key a development instance made itself (no SECRET_KEY). */
  devSecretKey: () => ["dev_secret_key"] as const,
  /** When a network (IPv4 address, IPv6 /48) last failed to sign in here. */
  loginFailure: (email: string, network: string) =>
    ["login_failures", email, network] as const,
  /** Who may hash a password for a link or account now (lib/hash_turns.ts). */
  hashTurn: (subject: string) => ["hash_turns", subject] as const,
};
