// When each dumped entry was meant to expire. KV does not return an entry's
// expireIn, so a restore works it out again from the app's own timestamps:
// a pending registration, a session, a rate-limit counter or an email change
// comes back with the time it had left, and one whose time is up is not
// restored at all.

/** Slack for clocks of instances that disagree a little. */
export const EXPIRY_SLACK_MS = 60_000;

/** Failed sign-ins are forgotten after a quiet day. */
export const ATTEMPTS_TTL_MS = 86_400_000;

/** Security events (lib/accounts/audit.ts) are kept 90 days. */
export const AUDIT_TTL_MS = 90 * 86_400_000;

export interface DumpedEntry {
  key: Deno.KvKey;
  value: unknown;
}

export interface ExpiryRules {
  /** The longest rate-limit window configured (RATE_LIMIT_IP / _EMAIL). */
  rateWindowMs: number;
}

const num = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;
const field = (v: unknown, name: string): number | null =>
  v && typeof v === "object" ? num((v as Record<string, unknown>)[name]) : null;

/** Epoch ms at which each entry expires, or null for a permanent entry. */
export function expiryTimes(
  entries: DumpedEntry[],
  { rateWindowMs }: ExpiryRules,
): (number | null)[] {
  // Indexes expire with what they point at.
  const pendingUntil = new Map<unknown, number | null>();
  const sessionEnds = new Map<unknown, number | null>();
  for (const { key, value } of entries) {
    if (key[0] === "users" && key.length === 2) {
      pendingUntil.set(key[1], field(value, "pendingUntil"));
    }
    if (key[0] === "sessions" && key.length === 2) {
      sessionEnds.set(key[1], field(value, "expiresAt"));
    }
  }
  return entries.map(({ key, value }) => {
    switch (key[0]) {
      case "users":
        return key.length === 2 ? field(value, "pendingUntil") : null;
      case "users_by_email":
        return pendingUntil.get(value) ?? null;
      case "sessions":
        return key.length === 2 ? field(value, "expiresAt") : null;
      case "sessions_by_user":
        return sessionEnds.get(key[2]) ?? null;
      case "audit_events": {
        const at = field(value, "at");
        return at === null ? null : at + AUDIT_TTL_MS;
      }
      case "rate_limits": {
        const windowStart = num(key[3]);
        return windowStart === null
          ? null
          : windowStart + rateWindowMs + EXPIRY_SLACK_MS;
      }
      case "cooldowns": {
        const until = num(value);
        return until === null ? null : until + EXPIRY_SLACK_MS;
      }
      case "login_attempts": {
        const lastAt = field(value, "lastAt");
        return lastAt === null ? null : lastAt + ATTEMPTS_TTL_MS;
      }
      case "outbox_dead":
        // Set on a dead letter that must not stay (a goodbye mail's).
      // Email changes and their undo links say when they end.
      case "email_changes":
      case "email_undos":
        return field(value, "expiresAt");
      default:
        return null;
    }
  });
}
