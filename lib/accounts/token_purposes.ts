// The signed links we mail: their purposes (so a token for one job never
// passes for another) and what a password-reset token is bound to.
import {
  sha256Hex,
  type Signer,
  type TokenPayload,
} from "../security/signing.ts";

export const ACTIVATION_PURPOSE = "activation";
export const RESET_PURPOSE = "password_reset";
export const DELETION_PURPOSE = "account_deletion";
/** The registering browser's marker cookie (lib/web/registrant.ts). */
export const REGISTERED_PURPOSE = "registered_browser";
/** Mailed to the new address; confirms an email change. */
export const EMAIL_CHANGE_PURPOSE = "email_change";
/** Mailed to the old address; takes the account back (email_change.ts). */
export const EMAIL_UNDO_PURPOSE = "email_change_undo";

/**
 * A short digest of the stored password hash and the account's address.
 * Signed into reset links, it changes with the password, so a link dies once
 * used or once the password changed some other way, and with the address,
 * so a link mailed to an address the account has left dies too; the hash
 * itself never leaves the server.
 */
export async function passwordFingerprint(user: {
  passwordHash: string;
  email: string;
}) {
  return (await sha256Hex(`reset:${user.passwordHash}\n${user.email}`))
    .slice(0, 22);
}

export type LinkVerdict =
  | { ok: true; payload: TokenPayload }
  | { ok: false; reason: "invalid" }
  /** Authentic but old: its payload still names the account. */
  | { ok: false; reason: "expired"; payload: TokenPayload };

/**
 * Verifies a mailed link. An expired one keeps its payload: it is authentic,
 * so the page can still say whose link it was and offer a fresh one.
 */
export async function verifyLink(
  signer: Signer,
  purpose: string,
  token: string,
  opts: { maxAgeMs: number; now: number },
): Promise<LinkVerdict> {
  const res = await signer.verify(purpose, token, opts);
  if (res.ok || res.reason === "invalid") return res as LinkVerdict;
  const old = await signer.verify(purpose, token, {
    maxAgeMs: Number.MAX_SAFE_INTEGER,
    now: opts.now,
  });
  return old.ok
    ? { ok: false, reason: "expired", payload: old.payload }
    : { ok: false, reason: "invalid" };
}

/**
 * What a deletion link is bound to: the password hash and the credential
 * epoch, so a password change or reset (someone taking the account back)
 * kills every deletion link mailed before it.
 */
export async function deletionFingerprint(
  user: { passwordHash: string; credentialEpoch?: number },
) {
  const epoch = user.credentialEpoch ?? 0;
  return (await sha256Hex(`delete:${epoch}:${user.passwordHash}`)).slice(0, 22);
}

/**
 * What an email-change link is bound to: the pending request (its random id)
 * and the address the account has now. A newer request, or any change of
 * address since, gives another digest, so the older link dies.
 */
export async function emailChangeFingerprint(changeId: string, email: string) {
  return (await sha256Hex(`email_change:${changeId}\n${email}`)).slice(0, 22);
}
