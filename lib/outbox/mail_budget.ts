// Limits that protect people who never used the app, and the sender domain's
// reputation: per-address limits count the canonical mailbox (so
// `target+1@…`, `target+2@…` share one budget), and every outgoing mail
// spends from an hourly budget for its recipient's domain and one for all.
import type { Deps } from "../app/deps.ts";
import { keys } from "../kv/keys.ts";
import { countMailBudgetRefused } from "../app/metrics.ts";

const HOUR_MS = 3_600_000;
/** kv.getMany reads at most this many keys per call. */
const KV_GET_MANY_MAX = 10;

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

export type BudgetVerdict = { ok: true } | {
  ok: false;
  scope: MailBudgetScope;
};

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
): Promise<BudgetVerdict> {
  return (await spendMailBudgets(deps, [to]))[0];
}

/**
 * spendMailBudget for many mails in one commit (each a disk flush, the cost
 * that capped delivery when every mail made its own). Within a counter the
 * batch's mails take the counts just below the total after the commit, in
 * order, so the rule stays: a mail passes when its own count is within the
 * limit.
 */
export async function spendMailBudgets(
  deps: Pick<Deps, "kv" | "config" | "clock" | "log">,
  tos: string[],
): Promise<BudgetVerdict[]> {
  const spend = planMailBudgets(deps, tos);
  await spend.addTo(deps.kv.atomic()).commit();
  return await spend.verdicts();
}

/** A batch's spend, split so it can ride in a commit that does more. */
export interface MailBudgetSpend {
  /** Adds the batch's increments to `atomic` (sums: they never conflict). */
  addTo(atomic: Deno.AtomicOperation): Deno.AtomicOperation;
  /** Once that commit is done: each mail's verdict, in the order given. */
  verdicts(): Promise<BudgetVerdict[]>;
}

/**
 * The spend of spendMailBudgets without its commit: the deliverer adds it to
 * the commit that also clears the mails already sent (one disk flush for
 * both, lib/outbox/deliver.ts).
 */
export function planMailBudgets(
  deps: Pick<Deps, "kv" | "config" | "clock" | "log">,
  tos: string[],
): MailBudgetSpend {
  const { kv, config, clock, log } = deps;
  const windowStart = Math.floor(clock.now() / HOUR_MS) * HOUR_MS;
  type Budget = {
    scope: MailBudgetScope;
    subject: string;
    limit: number;
    spent: number;
  };
  const budgets = new Map<string, Budget>();
  const budgetOf = (scope: MailBudgetScope, subject: string, limit: number) => {
    const id = `${scope}\0${subject}`;
    let budget = budgets.get(id);
    if (!budget) budgets.set(id, budget = { scope, subject, limit, spent: 0 });
    return budget;
  };
  // Each mail's place in its two counters, in the order given.
  const places = tos.map((to) => {
    const domain = budgetOf(
      "domain",
      mailDomain(to),
      config.mailBudgetPerDomainHour,
    );
    const total = budgetOf("total", "all", config.mailBudgetHour);
    return [
      { budget: domain, nth: ++domain.spent },
      { budget: total, nth: ++total.spent },
    ];
  });
  const list = [...budgets.values()];
  const keyOf = (b: Budget) => keys.mailBudget(b.scope, b.subject, windowStart);
  return {
    addTo(atomic) {
      for (const b of list) atomic.sum(keyOf(b), BigInt(b.spent));
      return atomic;
    },
    async verdicts() {
      const after = new Map<Budget, number>();
      for (let i = 0; i < list.length; i += KV_GET_MANY_MAX) {
        const chunk = list.slice(i, i + KV_GET_MANY_MAX);
        const read = await kv.getMany<Deno.KvU64[]>(chunk.map(keyOf));
        chunk.forEach((b, j) =>
          after.set(b, Number(read[j].value?.value ?? 0n))
        );
      }
      for (const b of list) {
        // The first mail of an hour tidies the hour before (sums cannot
        // expire).
        if (after.get(b) === b.spent) {
          await kv.delete(
            keys.mailBudget(b.scope, b.subject, windowStart - HOUR_MS),
          );
        }
      }
      const verdicts: BudgetVerdict[] = [];
      let refused = 0;
      for (const [i, mail] of places.entries()) {
        const over = mail.find(({ budget, nth }) =>
          after.get(budget)! - budget.spent + nth > budget.limit
        );
        if (!over) {
          verdicts.push({ ok: true });
          continue;
        }
        refused++;
        countMailBudgetRefused(over.budget.scope);
        log.warn("mail budget spent; mail not sent", {
          scope: over.budget.scope,
          domain: mailDomain(tos[i]),
          limitPerHour: over.budget.limit,
        });
        verdicts.push({ ok: false, scope: over.budget.scope });
      }
      if (refused) {
        await kv.atomic().sum(keys.mailBudgetRefused(), BigInt(refused))
          .commit();
      }
      return verdicts;
    },
  };
}

/** How many mails the budgets have refused since the store was created. */
export async function mailBudgetRefusals(kv: Deno.Kv): Promise<number> {
  const entry = await kv.get<Deno.KvU64>(keys.mailBudgetRefused());
  return entry.value ? Number(entry.value.value) : 0;
}
