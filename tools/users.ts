// Operator commands on the same KV the app uses:
//   deno task users list [pending|active]
//   deno task users show|activate|deactivate|delete|resend <email>
//   deno task users outbox | retry-outbox [<outbox id>]
// Reads the same environment as main.ts (KV_PATH, SECRET_KEY, MAIL_*).
// run() is long by design: one case per command, each a few lines.
import { resendActivation } from "../lib/accounts/accounts.ts";
import { loadConfig } from "../lib/app/config.ts";
import { createDeliverer } from "../lib/outbox/deliver.ts";
import { createDeps, type Deps } from "../lib/app/deps.ts";
import { createEmailRenderer } from "../lib/mail/templates.ts";
import { createLogger } from "../lib/app/log.ts";
import { EmailOnlySchema } from "../lib/accounts/schemas.ts";
import { resolveSecretKey } from "../lib/app/dev_secret.ts";
import { openKv, StartupError } from "../lib/kv/open.ts";
import {
  activateByOperator,
  type AdminResult,
  countUserSessions,
  deactivateUser,
  deleteUser,
  listDeadLetters,
  listOutbox,
  reviveOutbox,
} from "../lib/accounts/user_admin.ts";
import {
  getUser,
  getUserByEmail,
  listUsers,
  type User,
} from "../lib/accounts/users.ts";
import { type OutboxEntry, signalOwner } from "../lib/outbox/signals.ts";

const USAGE = `usage: deno task users <command>
  list [pending|active]   every account, or only pending / active ones
  show <email>            one account, its sessions and queued mail
  activate <email>        activate without the mailed link
  deactivate <email>      disable and sign out everywhere
  delete <email>          the user, its index, sessions and outbox entries
  resend <email>          a fresh activation link (older links stop working)
  outbox                  deliveries not done yet and dead letters (failed
                          for good), with their last error
  retry-outbox [<id>]     try every queued delivery and dead letter now, or
                          only the one with this outbox id`;

const iso = (ms: number | null) =>
  ms === null ? "-" : new Date(ms).toISOString();

function state(user: User): string {
  if (!user.isActivated) return "pending";
  return user.isActive ? "active" : "inactive";
}

class UsageError extends Error {}

async function main(args: string[]): Promise<number> {
  const [command, arg] = args;
  if (!command || command === "help" || command === "--help") {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const loaded = loadConfig(Deno.env.toObject());
  if (!loaded.ok) {
    console.error(loaded.error);
    return 1;
  }
  const config = loaded.config;
  const log = createLogger({ format: config.logFormat, level: "warn" });
  let kv: Deno.Kv;
  try {
    kv = await openKv(config.kvPath, { create: false });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    console.error(err.message);
    return 1;
  }
  const secretKey = await resolveSecretKey(kv, config, { create: false });
  if (!secretKey) {
    kv.close();
    console.error(
      "SECRET_KEY: not set, and this database holds no development key; set the app's SECRET_KEY",
    );
    return 1;
  }
  // One hashing thread: the tool hashes at most a password or two.
  const deps = await createDeps(config, {
    kv,
    log,
    secretKey,
    passwordWorkers: 1,
  });
  const { mailer, passwords } = deps;
  try {
    return await run(deps, command, arg);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  } finally {
    passwords.close();
    await mailer.close();
    kv.close();
  }
}

function needEmail(arg: string | undefined): string {
  const parsed = EmailOnlySchema.safeParse({ email: arg ?? "" });
  if (!parsed.success) throw new UsageError("give an email address");
  return parsed.data.email;
}

function report(res: AdminResult, done: string): number {
  if (res.ok) {
    console.log(
      `${done}: ${res.user.email}${res.detail ? ` (${res.detail})` : ""}`,
    );
    return 0;
  }
  const why = {
    not_found: "no such account",
    unchanged: "nothing to change",
    conflict: "changed by someone else meanwhile; try again",
  }[res.reason];
  console.error(why);
  return res.reason === "unchanged" ? 0 : 1;
}

async function run(deps: Deps, command: string, arg?: string): Promise<number> {
  const { kv, clock } = deps;
  const now = clock.now();
  const deliverer = createDeliverer(deps, createEmailRenderer());
  switch (command) {
    case "list": {
      if (arg && arg !== "pending" && arg !== "active") {
        throw new UsageError(`unknown filter "${arg}"`);
      }
      let n = 0;
      for await (const user of listUsers(kv)) {
        if (user.pendingUntil !== null && user.pendingUntil <= now) continue;
        if (arg && state(user) !== arg) continue;
        console.log(
          [
            state(user).padEnd(8),
            user.email,
            user.firstName,
            iso(user.createdAt),
          ]
            .join("  "),
        );
        n++;
      }
      console.log(`${n} account(s)`);
      return 0;
    }
    case "show": {
      const user = await getUserByEmail(kv, needEmail(arg), now);
      if (!user) {
        console.error("no such account");
        return 1;
      }
      const queued = [];
      for await (const e of listOutbox(kv)) {
        if (signalOwner(e.signal) === user.id) queued.push(e.signal.type);
      }
      for await (const e of listDeadLetters(kv)) {
        if (signalOwner(e.signal) === user.id) {
          queued.push(`${e.signal.type} (failed)`);
        }
      }
      const rows: [string, string | number][] = [
        ["id", user.id],
        ["email", user.email],
        ["first name", user.firstName],
        ["state", state(user)],
        ["language", user.lang],
        ["created", iso(user.createdAt)],
        ["activated", iso(user.activatedAt)],
        ["pending until", iso(user.pendingUntil)],
        ["token version", user.tokenVersion],
        ["registered", user.contested ? "more than once (contested)" : "once"],
        ["sessions", await countUserSessions(kv, user.id)],
        ["queued mail", queued.join(", ") || "-"],
      ];
      for (const [k, v] of rows) console.log(`${k.padEnd(14)} ${v}`);
      return 0;
    }
    case "activate": {
      const email = needEmail(arg);
      if ((await getUserByEmail(kv, email, now))?.contested) {
        // The activation page would have asked the mailbox for a password.
        console.error(
          "warning: this address was registered more than once; its password " +
            "is the last registrant's, who may not own the address. Ask the " +
            "owner to reset it (/password/forgot).",
        );
      }
      return report(await activateByOperator(kv, email, now), "activated");
    }
    case "deactivate":
      return report(
        await deactivateUser(kv, needEmail(arg), now),
        "deactivated",
      );
    case "delete": {
      const res = await deleteUser(kv, needEmail(arg), {
        now,
        queue: deps.config.signalQueue === "kv",
      });
      const code = report(res, "deleted");
      // The goodbye, sent from here: a queue message may reach no running app.
      if (res.ok && res.outboxId) {
        console.log(`goodbye mail: ${await deliverer.deliver(res.outboxId)}`);
      }
      return code;
    }
    case "resend": {
      const email = needEmail(arg);
      const user = await getUserByEmail(kv, email, now);
      if (!user || user.isActivated) {
        console.error(user ? "already activated" : "no such account");
        return 1;
      }
      const res = await resendActivation(deps, email);
      if (!res.ok || !res.outboxId) {
        console.error("could not queue the mail; try again");
        return 1;
      }
      // Sent from here: a queue message may reach no running app.
      const outcome = await deliverer.deliver(res.outboxId);
      console.log(`resend ${email}: ${outcome}`);
      return outcome === "failed" ? 1 : 0;
    }
    case "outbox": {
      let n = 0;
      // One line per entry; `when` says what its time means.
      const line = async (
        e: OutboxEntry,
        when: string,
      ) => {
        const owner = signalOwner(e.signal);
        const user = owner ? await getUser(kv, owner, now) : null;
        return [
          e.id,
          e.signal.type,
          // A goodbye names the address of an account that is gone.
          user?.email ?? ("email" in e.signal ? e.signal.email : "(gone)"),
          `attempts=${e.attempts}`,
          when,
          `error=${e.lastError ?? "-"}`,
        ].join("  ");
      };
      for await (const e of listOutbox(kv)) {
        console.log(await line(e, `next=${iso(e.nextAttemptAt)}`));
        n++;
      }
      let dead = 0;
      for await (const e of listDeadLetters(kv)) {
        console.log(await line(e, `FAILED=${iso(e.deadAt)}`));
        dead++;
      }
      console.log(`${n} queued, ${dead} failed for good (retry-outbox)`);
      return 0;
    }
    case "retry-outbox": {
      const ids = await reviveOutbox(kv, now, arg);
      if (arg !== undefined && !ids.length) {
        console.error(`no outbox entry ${arg} to retry`);
        return 1;
      }
      const counts: Record<string, number> = {};
      for (const id of ids) {
        const outcome = await deliverer.deliver(id);
        counts[outcome] = (counts[outcome] ?? 0) + 1;
      }
      console.log(
        ["sent", "failed", "dead", "deferred", "busy", "gone"]
          .map((o) => `${o}=${counts[o] ?? 0}`).join(" "),
      );
      return counts.failed || counts.dead || counts.deferred ? 1 : 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
