// Limits that protect people who never used the app, and the sender domain's
// reputation: per-address limits count the canonical mailbox (so
// `target+1@…`, `target+2@…` share one budget), and every outgoing mail
// spends from an hourly budget for its recipient's domain and one for all.
import type { Deps } from "./deps.ts";
import { keys } from "./kv_keys.ts";
import { hitRateLimit } from "./rate_limit.ts";

const HOUR_MS = 3_600_000;

/**
 * The mailbox an address delivers to, as most providers read it: lower-cased
 * and without a `+tag`. Only for counting; the account keeps the address as
 * it was typed.
 */
export function canonicalMailbox(email: string): string {
  const lower = email.toLowerCase();
  const at = lower.lastIndexOf("@");
  if (at < 0) return lower;
  const local = lower.slice(0, at).replace(/\+.*$/, "");
  return `${local}${lower.slice(at)}`;
}

/** The recipient's domain, lower-cased ("" for a malformed address). */
export function mailDomain(email: string): string {
  const at = email.lastIndexOf("@");
  return at < 0 ? "" : email.slice(at + 1).toLowerCase();
}

export type MailBudgetScope = "domain" | "total";

/**
 * Spends one mail from the recipient domain's and the overall hourly
 * budget. Over either, the mail must not be sent: the refusal is logged and
 * counted (shown by /healthz). A budget that only lost write races is not
 * spent: that throws, so the delivery is retried instead of dropped.
 */
export async function spendMailBudget(
  deps: Pick<Deps, "kv" | "config" | "clock" | "log">,
  to: string,
): Promise<{ ok: true } | { ok: false; scope: MailBudgetScope }> {
  const { kv, config, clock, log } = deps;
  const now = clock.now();
  const budgets = [
    ["domain", "mail:domain", mailDomain(to), config.mailBudgetPerDomainHour],
    ["total", "mail:total", "all", config.mailBudgetHour],
  ] as const;
  for (const [scope, rule, subject, limit] of budgets) {
    const rate = { limit, windowMs: HOUR_MS };
    const res = await hitRateLimit(kv, rule, subject, rate, now);
    if (res.ok) continue;
    const windowStart = Math.floor(now / HOUR_MS) * HOUR_MS;
    const spent = await kv.get<number>(
      keys.rateLimit(rule, subject, windowStart),
    );
    if ((spent.value ?? 0) < limit) {
      throw new Error(`mail budget (${scope}) busy; try again`);
    }
    await kv.atomic().sum(keys.mailBudgetRefused(), 1n).commit();
    log.warn("mail budget spent; mail not sent", {
      scope,
      domain: mailDomain(to),
      limitPerHour: limit,
    });
    return { ok: false, scope };
  }
  return { ok: true };
}

/** How many mails the budgets have refused since the store was created. */
export async function mailBudgetRefusals(kv: Deno.Kv): Promise<number> {
  const entry = await kv.get<Deno.KvU64>(keys.mailBudgetRefused());
  return entry.value ? Number(entry.value.value) : 0;
}
