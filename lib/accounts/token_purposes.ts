// The signed links we mail: their purposes (so a token for one job never
// passes for another) and what a password-reset token is bound to.
import { sha256Hex } from "../security/signing.ts";

export const ACTIVATION_PURPOSE = "activation";
export const RESET_PURPOSE = "password_reset";

/**
 * A short digest of the stored password hash. Signed into reset links, it
 * changes with the password, so a link dies once used or once the password
 * changed some other way; the hash itself never leaves the server.
 */
export async function passwordFingerprint(passwordHash: string) {
  return (await sha256Hex(`reset:${passwordHash}`)).slice(0, 22);
}
