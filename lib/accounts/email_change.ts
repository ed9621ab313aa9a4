// Moving an account to a new address: the request (after the current
// password), the link mailed to the new address that confirms it, and the
// link mailed to the old one (its use is email_undo.ts). This module owns
// their records and the commits that move the unique email index.
import { z } from "zod";
import { v7 as uuidv7 } from "uuid";
import type { Deps } from "../app/deps.ts";
import { retryGuarded } from "../kv/guarded.ts";
import { keys } from "../kv/keys.ts";
import {
  EMAIL_CHANGE_PURPOSE,
  EMAIL_UNDO_PURPOSE,
  emailChangeFingerprint,
} from "./token_purposes.ts";
import { addSignal, signalTiming } from "../outbox/signals.ts";
import { addAuditEvent } from "./audit.ts";
import { type ClientInfo, UNKNOWN_CLIENT } from "./devices.ts";
import { getUser, isLive, type User } from "./users.ts";

/** How long the old address can take the account back. */
export const EMAIL_UNDO_MAX_AGE_MS = 7 * 86_400_000;

/** A user's pending request (one at a time: a newer one replaces it). */
export const EmailChangeSchema = z.object({
  /** Random; signed (as a digest) into the link, so an older link dies. */
  id: z.string(),
  /** The address when asked; the link dies once it is another. */
  fromEmail: z.string().min(3).max(254),
  toEmail: z.string().min(3).max(254),
  requestedAt: z.number(),
  /** When its link stops working (KV's expiry; kept for db:restore). */
  expiresAt: z.number(),
});
export type EmailChange = z.infer<typeof EmailChangeSchema>;

/** A done change, kept so the old address can undo it once. */
export const EmailUndoSchema = z.object({
  id: z.string(),
  fromEmail: z.string().min(3).max(254),
  toEmail: z.string().min(3).max(254),
  changedAt: z.number(),
  /** When its link stops working (KV's expiry; kept for db:restore). */
  expiresAt: z.number(),
});
export type EmailUndo = z.infer<typeof EmailUndoSchema>;

export async function getEmailChange(
  kv: Deno.Kv,
  userId: string,
): Promise<EmailChange | null> {
  return (await kv.get<EmailChange>(keys.emailChange(userId))).value;
}

export async function getEmailUndo(
  kv: Deno.Kv,
  userId: string,
  id: string,
): Promise<EmailUndo | null> {
  return (await kv.get<EmailUndo>(keys.emailUndo(userId, id))).value;
}

/** Tries per write before a conflict is reported; KV conflicts are rare. */
export const MAX_TRIES = 5;

/**
 * The index entry for `email` as a commit must check it: free (or held by a
 * pending registration past its TTL, which the same commit removes), or
 * null when a live account holds it.
 */
export async function claimAddress(
  kv: Deno.Kv,
  atomic: Deno.AtomicOperation,
  email: string,
  now: number,
): Promise<boolean> {
  const index = await kv.get<string>(keys.userByEmail(email));
  atomic.check(index);
  if (!index.value) return true;
  const holder = await kv.get<User>(keys.user(index.value));
  if (holder.value && isLive(holder.value, now)) return false;
  atomic.check(holder).delete(keys.user(index.value));
  return true;
}

export type RequestEmailChangeResult =
  | { ok: true; outboxId: string | null }
  | { ok: false; reason: "conflict" };

/**
 * Records the request and the mail to the new address in one commit, or, if
 * a live account holds that address, mails its owner instead. Either way the
 * pending request before it is gone. The caller has checked the password
 * and answers the same in both cases.
 */
export function requestEmailChange(
  deps: Deps,
  userId: string,
  toEmail: string,
): Promise<RequestEmailChangeResult> {
  const { kv } = deps;
  return retryGuarded(
    async (): Promise<RequestEmailChangeResult | undefined> => {
      const now = deps.clock.now();
      const entry = await kv.get<User>(keys.user(userId));
      if (!entry.value?.isActive) return { ok: true, outboxId: null };
      const pending = await kv.get<EmailChange>(keys.emailChange(userId));
      const outboxId = uuidv7();
      const atomic = kv.atomic().check(entry).check(pending);
      const index = await kv.get<string>(keys.userByEmail(toEmail));
      const holder = index.value ? await getUser(kv, index.value, now) : null;
      if (holder) {
        atomic.check(index).delete(keys.emailChange(userId));
        if (holder.id !== userId) {
          addSignal(atomic, {
            type: "email_change_attempted",
            userId: holder.id,
          }, { id: outboxId, ...signalTiming(deps) });
        }
      } else {
        const change: EmailChange = {
          id: crypto.randomUUID(),
          fromEmail: entry.value.email,
          toEmail,
          requestedAt: now,
          expiresAt: now + deps.config.emailChangeMaxAgeMs,
        };
        atomic.set(keys.emailChange(userId), change, {
          expireIn: deps.config.emailChangeMaxAgeMs,
        });
        addSignal(atomic, {
          type: "email_change_requested",
          userId,
          changeId: change.id,
        }, { id: outboxId, ...signalTiming(deps) });
      }
      if ((await atomic.commit()).ok) {
        return { ok: true, outboxId: holder?.id === userId ? null : outboxId };
      }
    },
    {
      tries: MAX_TRIES,
      exhausted: (): RequestEmailChangeResult => ({
        ok: false,
        reason: "conflict",
      }),
    },
  );
}

export type LinkReason = "invalid" | "expired";

export type EmailChangeLinkCheck =
  | { ok: true; user: User; change: EmailChange }
  | { ok: false; reason: LinkReason };

/** Whether a confirm link still works, without changing anything. */
export async function checkEmailChangeLink(
  deps: Deps,
  token: string,
): Promise<EmailChangeLinkCheck> {
  const now = deps.clock.now();
  const verified = await deps.signer.verify(EMAIL_CHANGE_PURPOSE, token, {
    maxAgeMs: deps.config.emailChangeMaxAgeMs,
    now,
  });
  if (!verified.ok) return verified;
  const { sub, h } = verified.payload;
  const user = await getUser(deps.kv, sub, now);
  const change = await getEmailChange(deps.kv, sub);
  if (!user || !change || !await changeLinkMatches(user, change, h)) {
    return { ok: false, reason: "invalid" };
  }
  return { ok: true, user, change };
}

/** The link's request is the pending one, asked from the address held now. */
async function changeLinkMatches(
  user: User,
  change: EmailChange,
  h: string | undefined,
): Promise<boolean> {
  return user.isActive && change.fromEmail === user.email &&
    h === await emailChangeFingerprint(change.id, user.email);
}

/** The token for the link mailed to the new address. */
export async function signEmailChangeLink(
  deps: Pick<Deps, "signer">,
  userId: string,
  change: EmailChange,
): Promise<string> {
  return await deps.signer.sign(EMAIL_CHANGE_PURPOSE, {
    sub: userId,
    iat: change.requestedAt,
    h: await emailChangeFingerprint(change.id, change.fromEmail),
  });
}

/** The token for the undo link mailed to the old address. */
export function signEmailUndoLink(
  deps: Pick<Deps, "signer">,
  userId: string,
  undo: EmailUndo,
): Promise<string> {
  return deps.signer.sign(EMAIL_UNDO_PURPOSE, {
    sub: userId,
    iat: undo.changedAt,
    h: undo.id,
  });
}

export type ConfirmEmailChangeOutcome =
  | { ok: true; user: User; undo: EmailUndo }
  | { ok: false; reason: LinkReason | "taken" | "retry" }
  /**
   * The link works, but whoever opened it must show they hold the account:
   * `wrong` when a password was typed and it is not the account's.
   */
  | { ok: false; reason: "password_required"; user: User; wrong: boolean };

/**
 * How the person confirming shows the account is theirs: a session of it
 * (the id of the user signed in here, or null), or its current password.
 * Otherwise anyone could move his own account to your address by sending
 * you his link: you press the button, and his account holds your address.
 */
export type ConfirmProof = { signedInAs: string | null } | {
  password: string;
};

/**
 * Moves the account to the new address in one commit guarded by the user,
 * the pending request and the new address's index entry (which must still
 * be free): the record, both index entries, the undo record and the notice
 * to the old address land together or not at all. Sessions stay.
 */
export async function confirmEmailChange(
  deps: Deps,
  token: string,
  proof: ConfirmProof,
  /** Who confirmed, for the account's security events. */
  client: ClientInfo = UNKNOWN_CLIENT,
): Promise<ConfirmEmailChangeOutcome> {
  const { kv } = deps;
  const link = await checkEmailChangeLink(deps, token);
  if (!link.ok) return link;
  // A password checked against this hash; the commit checks the record, so
  // a password changed meanwhile makes it retry and ask again.
  let provenHash: string | null = null;
  if ("password" in proof) {
    if (await deps.passwords.verify(proof.password, link.user.passwordHash)) {
      provenHash = link.user.passwordHash;
    } else {
      return {
        ok: false,
        reason: "password_required",
        user: link.user,
        wrong: true,
      };
    }
  } else if (proof.signedInAs !== link.user.id) {
    return {
      ok: false,
      reason: "password_required",
      user: link.user,
      wrong: false,
    };
  }
  return retryGuarded(
    async (): Promise<ConfirmEmailChangeOutcome | undefined> => {
      const now = deps.clock.now();
      const entry = await kv.get<User>(keys.user(link.user.id));
      const pending = await kv.get<EmailChange>(keys.emailChange(link.user.id));
      const current = entry.value;
      const change = pending.value;
      // Still the link's request, from the address the account has now.
      if (
        !current?.isActive || !isLive(current, now) || !change ||
        change.id !== link.change.id || change.fromEmail !== current.email
      ) {
        return { ok: false, reason: "invalid" };
      }
      if (provenHash !== null && provenHash !== current.passwordHash) {
        return {
          ok: false,
          reason: "password_required",
          user: current,
          wrong: false,
        };
      }
      const atomic = kv.atomic().check(entry).check(pending);
      if (!await claimAddress(kv, atomic, change.toEmail, now)) {
        return { ok: false, reason: "taken" };
      }
      const user: User = { ...current, email: change.toEmail };
      const undo: EmailUndo = {
        id: crypto.randomUUID(),
        fromEmail: current.email,
        toEmail: change.toEmail,
        changedAt: now,
        expiresAt: now + EMAIL_UNDO_MAX_AGE_MS,
      };
      atomic
        .set(keys.user(user.id), user)
        .delete(keys.userByEmail(current.email))
        .set(keys.userByEmail(user.email), user.id)
        .delete(keys.emailChange(user.id))
        .set(keys.emailUndo(user.id, undo.id), undo, {
          expireIn: EMAIL_UNDO_MAX_AGE_MS,
        });
      addAuditEvent(atomic, user.id, { type: "email_changed", client }, now);
      addSignal(atomic, {
        type: "email_changed",
        userId: user.id,
        undoId: undo.id,
      }, { id: uuidv7(), ...signalTiming(deps) });
      if ((await atomic.commit()).ok) return { ok: true, user, undo };
    },
    {
      tries: MAX_TRIES,
      exhausted: (): ConfirmEmailChangeOutcome => ({
        ok: false,
        reason: "retry",
      }),
    },
  );
}
