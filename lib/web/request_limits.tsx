// Rate limits as the routes apply them: per client IP and per email address,
// for each action that costs us a hash or a mail. Pages and the JSON API call
// the same check; each renders the refusal its own way.
import { isIP } from "node:net";
import { getConnInfo } from "hono/deno";
import { Message } from "../../components/Message.tsx";
import type { Config } from "../app/config.ts";
import type { Deps } from "../app/deps.ts";
import { type ClientInfo, describeClient } from "../accounts/devices.ts";
import { formatWait } from "../i18n/durations.ts";
import type { AppContext } from "./http.ts";
import { canonicalMailbox } from "../outbox/mail_budget.ts";
import {
  hitCooldown,
  hitRateLimit,
  type LimitResult,
  passLoginCeiling,
  recordLoginFailure,
} from "../security/rate_limit.ts";

/**
 * password: a request that would hash one (a link that sets it, a change);
 * delete: the mail that confirms an account's deletion; export: a download
 * of the person's data (it reads the rate-limit tables through).
 * email_change: a link mailed to a new address (counted on that address).
 */
export type LimitedAction =
  | "register"
  | "login"
  | "resend"
  | "forgot"
  | "password"
  | "delete"
  | "export"
  | "email_change";

/** The longest textual IP address (an IPv6 with an IPv4 tail). */
const MAX_IP_LENGTH = 45;

/** True for a plain IPv4 or IPv6 address (no port, no zone, no brackets). */
export function isIpAddress(value: string): boolean {
  return value.length <= MAX_IP_LENGTH && isIP(value) !== 0;
}

/**
 * The peer's address. Behind `hops` trusted proxies, each of which appends
 * the address it saw to X-Forwarded-For, the client is the hops-th entry from
 * the right; anything further left is whatever the client chose to send.
 * An entry that is not an IP address (a misconfigured hop count lets the
 * client write it) is ignored for the socket's address: made-up values
 * would each get a budget of their own, and long ones would not fit a key.
 */
export function clientIp(c: AppContext, hops: number): string {
  if (hops > 0) {
    const chain = (c.req.header("x-forwarded-for") ?? "").split(",")
      .map((part) => part.trim()).filter(Boolean);
    const ip = chain[chain.length - hops];
    if (ip && isIpAddress(ip)) return ip;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by Deno.serve (app.request in a script)
  }
}

/** The request's device and network, as sessions and audit events keep them. */
export function requestClient(
  c: AppContext,
  config: Pick<Config, "trustedProxyHops">,
): ClientInfo {
  return describeClient(
    c.req.header("user-agent"),
    clientIp(c, config.trustedProxyHops),
  );
}

function isLoopback(ip: string): boolean {
  return /^127\./.test(ip) || ip === "::1" || /^::ffff:127\./.test(ip);
}

/** Headers a proxy or tunnel adds: the request did not come straight here. */
const FORWARDING = /^(forwarded|x-forwarded-.*|x-real-ip|via)$/i;

/**
 * A request from this machine, straight to the app: a loopback peer and no
 * forwarding header (behind a local proxy or tunnel every visitor's TCP
 * peer is loopback).
 */
export function isDirectFromLoopback(c: AppContext): boolean {
  if (!isLoopback(clientIp(c, 0))) return false;
  for (const name of c.req.raw.headers.keys()) {
    if (FORWARDING.test(name)) return false;
  }
  return true;
}

/**
 * The client as rate limits count it: an IPv4 address, or the /64 network of
 * an IPv6 one. One subscriber usually gets a whole /64 and can change the
 * low 64 bits at will, so counting single IPv6 addresses would let one
 * person step around every per-client limit. An IPv4-mapped address
 * (::ffff:192.0.2.1) counts as its IPv4 address.
 */
export function clientKey(ip: string): string {
  const bare = ip.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!bare.includes(":")) return bare;
  const mapped = bare.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return mapped[1];
  const halves = bare.split("::");
  if (halves.length > 2) return bare;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return bare;
  const groups = [...head, ...Array(missing).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return bare;
  const network = groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16));
  return `${network.join(":")}::/64`;
}

/**
 * The network a client belongs to, as the sign-in ceiling remembers
 * failures: an IPv4 address as is, an IPv6 /64 (a clientKey) as its /48, the
 * block a site or a subscriber usually gets, so stepping through /64s does
 * not make a guesser new again.
 */
export function clientNetwork(key: string): string {
  const v6 = key.match(/^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):[0-9a-f]+::\/64$/);
  return v6 ? `${v6[1]}:${v6[2]}:${v6[3]}::/48` : key;
}

/** Failed sign-ins per address and window before networks are held back. */
function loginCeiling(config: Config) {
  return {
    ...config.rateLimitEmail,
    limit: config.rateLimitEmail.limit * 10,
  };
}

/**
 * A wrong password was checked for `email` (sign-in, or the current password
 * of a change): it counts toward the address's ceiling and marks the
 * client's network. Refused attempts never get here.
 */
export async function countLoginFailure(
  deps: Pick<Deps, "kv" | "config" | "clock">,
  c: AppContext,
  email: string,
): Promise<void> {
  const { kv, config, clock } = deps;
  const network = clientNetwork(
    clientKey(clientIp(c, config.trustedProxyHops)),
  );
  await recordLoginFailure(
    kv,
    email,
    network,
    loginCeiling(config),
    clock.now(),
  );
}

/**
 * Checks the client IP's budget, then the address's interval (if the action
 * has one), then the address's budget. A pass says, in `waitMs`, how long
 * until the same request would pass again: the islands count down from it,
 * so the page and the server agree without the page knowing the rules.
 */
export async function limitRequest(
  deps: Pick<Deps, "kv" | "config" | "clock">,
  c: AppContext,
  action: LimitedAction,
  email?: string,
): Promise<LimitResult> {
  const { kv, config, clock } = deps;
  const now = clock.now();
  const ip = clientKey(clientIp(c, config.trustedProxyHops));
  const byIp = await hitRateLimit(
    kv,
    `${action}:ip`,
    ip,
    config.rateLimitIp,
    now,
  );
  if (!byIp.ok || email === undefined) return byIp;
  // Limits on mail count the mailbox, not the spelling: `ada+1@…` and
  // `ada+2@…` reach one inbox and share its budget and interval.
  const mailbox = action === "login" ? email : canonicalMailbox(email);
  // Resend, forgot, delete and email changes have an interval: a second link
  // within seconds helps nobody and floods an inbox.
  const gap = action === "resend" || action === "forgot" ||
      action === "delete" || action === "email_change"
    ? await hitCooldown(kv, action, mailbox, config.resendIntervalMs, now)
    : null;
  if (gap && !gap.ok) return gap;
  // Sign-in budgets count per address *and client*, or a stranger's wrong
  // passwords would lock the owner out; a ceiling on failures ten times
  // higher per address caps guessing spread over many clients, and holds
  // back only the networks that failed (see passLoginCeiling).
  const byEmail = action === "login"
    ? await hitRateLimit(
      kv,
      "login:email+ip",
      `${email} ${ip}`,
      config.rateLimitEmail,
      now,
    )
    : await hitRateLimit(
      kv,
      `${action}:email`,
      mailbox,
      config.rateLimitEmail,
      now,
    );
  if (!byEmail.ok) return byEmail;
  if (action === "login") {
    const ceiling = await passLoginCeiling(
      kv,
      email,
      clientNetwork(ip),
      { ceiling: loginCeiling(config), free: config.loginFreeFailures },
      now,
    );
    if (!ceiling.ok) return ceiling;
  }
  return {
    ok: true,
    remaining: Math.min(byIp.remaining, byEmail.remaining),
    waitMs: Math.max(byIp.waitMs, byEmail.waitMs, gap?.waitMs ?? 0),
  };
}

export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * For a form that answers a 429 with itself: sets Retry-After and returns the
 * seconds for its LimitNotice and SubmitButton.
 */
export function limitedSeconds(c: AppContext, retryAfterMs: number): number {
  const seconds = retryAfterSeconds(retryAfterMs);
  c.header("Retry-After", String(seconds));
  return seconds;
}

/** 429 with Retry-After and a page that says, in words, how long to wait. */
export function tooManyPage(c: AppContext, retryAfterMs: number) {
  const seconds = retryAfterSeconds(retryAfterMs);
  c.header("Retry-After", String(seconds));
  const t = c.get("t");
  const when = formatWait(seconds * 1000, c.get("language"));
  return c.render(
    <Message title={t("limit.title")} body={t("limit.body", { when })} />,
    { title: t("limit.title"), status: 429 },
  );
}

/**
 * 409: another request is hashing a password for the same link or account
 * (a form sent twice, or a flood); nothing was done, and it is soon over.
 */
export function busyPage(c: AppContext, retryAfterMs: number) {
  c.header("Retry-After", String(retryAfterSeconds(retryAfterMs)));
  const t = c.get("t");
  return c.render(
    <Message title={t("busy.title")} body={t("busy.body")} />,
    { title: t("busy.title"), status: 409 },
  );
}

/** The page for a request `withHashTurn` refused. */
export function hashTurnRefusedPage(
  c: AppContext,
  refused: { reason: "limited" | "busy"; retryAfterMs: number },
) {
  return refused.reason === "busy"
    ? busyPage(c, refused.retryAfterMs)
    : tooManyPage(c, refused.retryAfterMs);
}

/** 503: the store lost a race too often; nothing was saved, try again. */
export function retryLaterPage(c: AppContext) {
  const t = c.get("t");
  return c.render(
    <Message title={t("error.server_title")} body={t("register.retry")} />,
    { title: t("error.server_title"), status: 503 },
  );
}
