// Limits that protect people who never used the app, and the sender domain's
// reputation: per-address limits count the canonical mailbox (so
// `target+1@…`, `target+2@…` share one budget), and every outgoing mail
// spends from an hourly budget for its recipient's domain and one for all.
import type { Deps } from "../app/deps.ts";
import { keys } from "../kv/keys.ts";
import { countMailBudgetRefused } from "../app/metrics.ts";

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
 * counted (shown by /healthz). The counters are KvU64 sums, which never
 * conflict (every instance's deliverers spend from the same two keys at
 * once); a mail passes when the count after its own increment is within
 * the limit, so no more than the limit ever pass.
 */
export async function spendMailBudget(
  deps: Pick<Deps, "kv" | "config" | "clock" | "log">,
  to: string,
): Promise<{ ok: true } | { ok: false; scope: MailBudgetScope }> {
  const { kv, config, clock, log } = deps;
  const windowStart = Math.floor(clock.now() / HOUR_MS) * HOUR_MS;
  const domain = mailDomain(to);
  const budgets = [
    ["domain", domain, config.mailBudgetPerDomainHour],
    ["total", "all", config.mailBudgetHour],
  ] as const;
  const counters = budgets.map(([scope, subject]) =>
    keys.mailBudget(scope, subject, windowStart)
  );
  const spend = kv.atomic();
  for (const key of counters) spend.sum(key, 1n);
  await spend.commit();
  const spent = await kv.getMany<Deno.KvU64[]>(counters);
  for (const [i, [scope, subject, limit]] of budgets.entries()) {
    const count = Number(spent[i].value?.value ?? 0n);
    // The first mail of an hour tidies the hour before (sums cannot expire).
    if (count === 1) {
      await kv.delete(keys.mailBudget(scope, subject, windowStart - HOUR_MS));
    }
    if (count <= limit) continue;
    await kv.atomic().sum(keys.mailBudgetRefused(), 1n).commit();
    countMailBudgetRefused(scope);
    log.warn("mail budget spent; mail not sent", {
      scope,
      domain,
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
