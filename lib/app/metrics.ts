// What an operator watches, as OpenTelemetry metrics. The instruments come
// from @opentelemetry/api's global meter: Deno registers its own provider
// when started with OTEL_DENO=true and exports over OTLP (Deno Deploy
// collects it natively); without it every call here is a no-op.
import { metrics } from "@opentelemetry/api";

const meter = metrics.getMeter("cloud-user");

const registrations = meter.createCounter("cloud_user.registrations", {
  description:
    "Registrations accepted (kind=new: a new pending account; kind=again: one that existed)",
});
const activations = meter.createCounter("cloud_user.activations", {
  description: "Accounts activated through their link",
});
const logins = meter.createCounter("cloud_user.logins", {
  description:
    "Sign-in attempts by outcome: ok, failed, pending, inactive, throttled, retry",
});
const rateLimited = meter.createCounter("cloud_user.rate_limited", {
  description: "Requests answered 429 by a rate limit, by route",
});
const mails = meter.createCounter("cloud_user.mails", {
  description:
    "Outbox deliveries by outcome: sent, failed (retried later), dead_lettered",
});
const mailBudgetRefused = meter.createCounter(
  "cloud_user.mail_budget_refused",
  {
    description:
      "Mails not sent because an hourly budget was spent (scope=domain or total)",
  },
);
const signalToMail = meter.createHistogram("cloud_user.signal_to_mail", {
  description: "From the signal's commit to its mail accepted by the provider",
  unit: "s",
});

export const countRegistration = (kind: "new" | "again") =>
  registrations.add(1, { kind });
export const countActivation = () => activations.add(1);
export const countLogin = (outcome: string) => logins.add(1, { outcome });
export const countRateLimited = (route: string) =>
  rateLimited.add(1, { route });
export function countMail(
  outcome: "sent" | "failed" | "dead_lettered",
  signal: string,
): void {
  mails.add(1, { outcome, signal });
}
export const countMailBudgetRefused = (scope: "domain" | "total") =>
  mailBudgetRefused.add(1, { scope });
export const recordSignalToMail = (ms: number, signal: string) =>
  signalToMail.record(Math.max(0, ms) / 1000, { signal });

/** Reports the hashing queue's length at each export. */
export function observeHashQueue(length: () => number): () => void {
  const gauge = meter.createObservableGauge(
    "cloud_user.password_hash_queue",
    { description: "Password hashing jobs waiting for a slot" },
  );
  const callback = (result: { observe(value: number): void }) =>
    result.observe(length());
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
