// What each signal does: render a mail in the person's language and send it.
// Handlers read the user afresh (messages carry ids only) and do nothing when
// the state they announce has passed, so a late redelivery is harmless.
import type { Deps } from "../app/deps.ts";
import { formatDuration } from "../i18n/durations.ts";
import {
  EMAIL_UNDO_MAX_AGE_MS,
  getEmailChange,
  getEmailUndo,
  signEmailChangeLink,
  signEmailUndoLink,
} from "../accounts/email_change.ts";
import type { EmailRenderer } from "../mail/templates.ts";
import {
  ACTIVATION_PURPOSE,
  DELETION_PURPOSE,
  deletionFingerprint,
  passwordFingerprint,
  RESET_PURPOSE,
} from "../accounts/token_purposes.ts";
import type { BudgetVerdict } from "./mail_budget.ts";
import type { Signal, SignalType } from "./signals.ts";
import { getUser, type User } from "../accounts/users.ts";

export interface HandlerContext extends Deps {
  emails: EmailRenderer;
  /** spendMailBudget, batched with the other sends under way. */
  spendBudget(to: string): Promise<BudgetVerdict>;
}

/** The outbox entry a signal came from: the same on every attempt. */
export interface SignalOrigin {
  outboxId: string;
  createdAt: number;
}

export type SignalHandler<T extends SignalType> = (
  signal: Extract<Signal, { type: T }>,
  ctx: HandlerContext,
  origin: SignalOrigin,
) => Promise<void>;

async function sendTo(
  ctx: HandlerContext,
  origin: SignalOrigin,
  user: Pick<User, "email" | "firstName" | "lang">,
  template: string,
  vars: Record<string, string>,
  /** Another address of the user's (an email change's new or old one). */
  to: string = user.email,
): Promise<void> {
  // Over an hourly budget the mail is dropped (logged and counted): a flood
  // of requests must not become a flood of mail to strangers.
  if (!(await ctx.spendBudget(to)).ok) return;
  const mail = await ctx.emails.render(template, user.lang, {
    first_name: user.firstName,
    app_name: ctx.config.appName,
    app_origin: ctx.config.appOrigin,
    logo_url: ctx.config.appLogoUrl ?? "",
    ...vars,
  });
  // One key per outbox entry: a provider that saw our first attempt (whose
  // answer we lost) recognises the retry instead of sending twice.
  await ctx.mailer.send({
    to,
    ...mail,
    idempotencyKey: `${template}/${origin.outboxId}`,
  });
}

async function sendActivationEmail(
  signal: { userId: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  const now = ctx.clock.now();
  const user = await getUser(ctx.kv, signal.userId, now);
  // Expired, deleted or already activated: nothing left to announce.
  if (!user || user.isActivated) return;
  // The version read now, not at request time: a mail delivered late never
  // carries a link that a newer one already retired. Issued at the request,
  // not at this attempt: every retry renders the same mail, so a provider's
  // idempotency key can match it to a send it already made.
  const token = await ctx.signer.sign(ACTIVATION_PURPOSE, {
    sub: user.id,
    iat: origin.createdAt,
    v: user.tokenVersion,
  });
  await sendTo(ctx, origin, user, "activation", {
    link: `${ctx.config.appOrigin}/activate/${token}`,
    lifetime: formatDuration(ctx.config.activationMaxAgeMs, user.lang),
  });
}

async function sendRegistrationAttempt(
  signal: { userId: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  const user = await getUser(ctx.kv, signal.userId, ctx.clock.now());
  if (!user || !user.isActive) return;
  await sendTo(ctx, origin, user, "registration_attempt", {
    login_link: `${ctx.config.appOrigin}/login`,
    reset_link: `${ctx.config.appOrigin}/password/forgot`,
  });
}

/**
 * A mail whose link is signed for `purpose` and bound to `fingerprint` (it
 * dies when what the fingerprint covers changes), opening `path`/<token>.
 */
async function sendBoundLink(
  ctx: HandlerContext,
  origin: SignalOrigin,
  user: User,
  mail: {
    purpose: string;
    fingerprint: string;
    template: string;
    path: string;
    maxAgeMs: number;
  },
): Promise<void> {
  const token = await ctx.signer.sign(mail.purpose, {
    sub: user.id,
    iat: origin.createdAt,
    h: mail.fingerprint,
  });
  await sendTo(ctx, origin, user, mail.template, {
    link: `${ctx.config.appOrigin}${mail.path}/${token}`,
    lifetime: formatDuration(mail.maxAgeMs, user.lang),
  });
}

async function sendPasswordReset(
  signal: { userId: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  const user = await getUser(ctx.kv, signal.userId, ctx.clock.now());
  if (!user || !user.isActive) return;
  await sendBoundLink(ctx, origin, user, {
    purpose: RESET_PURPOSE,
    fingerprint: await passwordFingerprint(user),
    template: "password_reset",
    path: "/password/reset",
    maxAgeMs: ctx.config.passwordResetMaxAgeMs,
  });
}

async function sendDeletionLink(
  signal: { userId: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  const user = await getUser(ctx.kv, signal.userId, ctx.clock.now());
  if (!user || !user.isActive) return;
  // Bound to the password and epoch: changing either kills the link.
  await sendBoundLink(ctx, origin, user, {
    purpose: DELETION_PURPOSE,
    fingerprint: await deletionFingerprint(user),
    template: "account_deletion",
    path: "/account/delete",
    maxAgeMs: ctx.config.accountDeletionMaxAgeMs,
  });
}

/** The account is gone: the message itself says whom to tell. */
async function sendGoodbye(
  signal: { email: string; firstName: string; lang: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  await sendTo(ctx, origin, signal, "account_deleted", {
    link: `${ctx.config.appOrigin}/register`,
  });
}

async function sendEmailChangeLink(
  signal: { userId: string; changeId: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  const user = await getUser(ctx.kv, signal.userId, ctx.clock.now());
  if (!user?.isActive) return;
  const change = await getEmailChange(ctx.kv, user.id);
  // Replaced by a newer request, confirmed, or asked from an address the
  // account no longer has: its link would not work.
  if (
    !change || change.id !== signal.changeId || change.fromEmail !== user.email
  ) {
    return;
  }
  const token = await signEmailChangeLink(ctx, user.id, change);
  await sendTo(ctx, origin, user, "email_change", {
    link: `${ctx.config.appOrigin}/account/email/confirm/${token}`,
    lifetime: formatDuration(ctx.config.emailChangeMaxAgeMs, user.lang),
    new_email: change.toEmail,
  }, change.toEmail);
}

async function sendEmailChangeAttempt(
  signal: { userId: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  const user = await getUser(ctx.kv, signal.userId, ctx.clock.now());
  if (!user) return;
  await sendTo(ctx, origin, user, "email_change_attempt", {
    login_link: `${ctx.config.appOrigin}/login`,
  });
}

async function sendEmailChanged(
  signal: { userId: string; undoId: string },
  ctx: HandlerContext,
  origin: SignalOrigin,
): Promise<void> {
  const user = await getUser(ctx.kv, signal.userId, ctx.clock.now());
  if (!user?.isActive) return;
  // Undone already (or past its 7 days): nothing left to offer.
  const undo = await getEmailUndo(ctx.kv, user.id, signal.undoId);
  if (!undo) return;
  const token = await signEmailUndoLink(ctx, user.id, undo);
  await sendTo(ctx, origin, user, "email_changed", {
    link: `${ctx.config.appOrigin}/account/email/undo/${token}`,
    lifetime: formatDuration(EMAIL_UNDO_MAX_AGE_MS, user.lang),
  }, undo.fromEmail);
}

export const handlers: { [T in SignalType]: SignalHandler<T> } = {
  user_registered: sendActivationEmail,
  activation_requested: sendActivationEmail,
  registration_attempted_on_active: sendRegistrationAttempt,
  password_reset_requested: sendPasswordReset,
  account_deletion_requested: sendDeletionLink,
  account_deleted: sendGoodbye,
  email_change_requested: sendEmailChangeLink,
  email_change_attempted: sendEmailChangeAttempt,
  email_changed: sendEmailChanged,
};
