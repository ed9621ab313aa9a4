// Signed, expiring tokens for mailed links and cookies (HMAC-SHA256), plus the
// hashing and randomness helpers that sessions need. Keys rotate: the current
// key signs, the current and fallback keys verify.
import { z } from "zod";

export interface TokenPayload {
  /** User id. */
  sub: string;
  /** Issue time, ms since the epoch. */
  iat: number;
  /** Per-user token version; bumping it revokes every older token. */
  v?: number;
  /** Extra binding, e.g. a fragment of the password hash. */
  h?: string;
}

export type VerifyResult =
  | { ok: true; payload: TokenPayload }
  | { ok: false; reason: "invalid" | "expired" };

export interface Signer {
  sign(purpose: string, payload: TokenPayload): Promise<string>;
  verify(
    purpose: string,
    token: string,
    opts: { maxAgeMs: number; now: number },
  ): Promise<VerifyResult>;
}

/** Checked before any decoding, so a huge input costs nothing. */
export const MAX_TOKEN_LENGTH = 512;
/** How far in the future an iat may be, for clocks that disagree a little. */
const CLOCK_SKEW_MS = 60_000;
const MAC_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const PURPOSE = /^[A-Za-z0-9_.:-]{1,64}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// HKDF labels give the signing key its own domain, so the same SECRET_KEY can
// later derive other keys without one ever standing in for another.
const HKDF_SALT = encoder.encode("cloud-user/signing");
const HKDF_INFO = encoder.encode("hmac-sha256/v1");

const PayloadSchema = z.strictObject({
  sub: z.string().min(1).max(128),
  iat: z.int().nonnegative(),
  v: z.int().nonnegative().optional(),
  h: z.string().min(1).max(128).optional(),
});

const INVALID: VerifyResult = { ok: false, reason: "invalid" };

function toBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Decodes base64url, or null unless `text` is exactly what encoding the bytes
 * gives back: padding, whitespace and stray low bits would otherwise let one
 * token have many spellings.
 */
function fromCanonicalBase64Url(
  text: string,
): Uint8Array<ArrayBuffer> | null {
  if (!BASE64URL.test(text)) return null;
  try {
    const bytes = Uint8Array.fromBase64(text, { alphabet: "base64url" });
    return toBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

/** Fixed key order, so the same payload always serialises the same way. */
function serialise(p: TokenPayload): string {
  const ordered: TokenPayload = { sub: p.sub, iat: p.iat };
  if (p.v !== undefined) ordered.v = p.v;
  if (p.h !== undefined) ordered.h = p.h;
  return JSON.stringify(ordered);
}

function macInput(
  purpose: string,
  payloadPart: string,
): Uint8Array<ArrayBuffer> {
  // The payload part never holds "\n", so purpose and payload cannot be
  // re-split into a different pair with the same MAC.
  return encoder.encode(`${purpose}\n${payloadPart}`);
}

function checkPurpose(purpose: string): void {
  if (!PURPOSE.test(purpose)) throw new Error(`bad token purpose "${purpose}"`);
}

async function deriveKey(secret: string): Promise<CryptoKey> {
  if (!secret) throw new Error("signing secret must not be empty");
  const base = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    "HKDF",
    false,
    ["deriveKey"],
  );
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: HKDF_INFO },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

export async function createSigner(
  secretKey: string,
  fallbackKeys: string[] = [],
): Promise<Signer> {
  const keys = await Promise.all([secretKey, ...fallbackKeys].map(deriveKey));
  const signingKey = keys[0];

  async function sign(purpose: string, payload: TokenPayload): Promise<string> {
    checkPurpose(purpose);
    // A payload that would never verify is a bug at the caller: fail loudly.
    const valid = PayloadSchema.parse(payload);
    const payloadPart = toBase64Url(encoder.encode(serialise(valid)));
    const mac = await crypto.subtle.sign(
      "HMAC",
      signingKey,
      macInput(purpose, payloadPart),
    );
    const token = `${payloadPart}.${toBase64Url(new Uint8Array(mac))}`;
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new Error(`token of ${token.length} chars would be rejected`);
    }
    return token;
  }

  async function verify(
    purpose: string,
    token: string,
    opts: { maxAgeMs: number; now: number },
  ): Promise<VerifyResult> {
    checkPurpose(purpose);
    // NaN would make every age comparison false and the token immortal.
    if (!(opts.maxAgeMs >= 0) || !Number.isFinite(opts.now)) {
      throw new Error("verify needs a finite maxAgeMs and now");
    }
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) {
      return INVALID;
    }
    const parts = token.split(".");
    if (parts.length !== 2) return INVALID;
    const [payloadPart, macPart] = parts;
    const payloadBytes = fromCanonicalBase64Url(payloadPart);
    const mac = fromCanonicalBase64Url(macPart);
    if (!payloadBytes || !mac || mac.length !== MAC_BYTES) return INVALID;

    // Authenticate before parsing; subtle.verify compares in constant time.
    const data = macInput(purpose, payloadPart);
    let authentic = false;
    for (const key of keys) {
      if (await crypto.subtle.verify("HMAC", key, mac, data)) {
        authentic = true;
        break;
      }
    }
    if (!authentic) return INVALID;

    let json: string;
    let raw: unknown;
    try {
      json = decoder.decode(payloadBytes);
      raw = JSON.parse(json);
    } catch {
      return INVALID;
    }
    const parsed = PayloadSchema.safeParse(raw);
    if (!parsed.success || serialise(parsed.data) !== json) return INVALID;
    const payload = parsed.data;
    if (payload.iat > opts.now + CLOCK_SKEW_MS) return INVALID;
    if (opts.now - payload.iat > opts.maxAgeMs) {
      return { ok: false, reason: "expired" };
    }
    return { ok: true, payload };
  }

  return { sign, verify };
}

/** Hex SHA-256, for storing session ids and other secrets by their hash. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return new Uint8Array(digest).toHex();
}

/** A URL-safe random secret (session ids, nonces). */
export function randomToken(bytes = 32): string {
  // Fewer than 128 bits would be guessable; asking for that is a bug.
  if (!Number.isInteger(bytes) || bytes < 16) {
    throw new RangeError(`randomToken needs at least 16 bytes, got ${bytes}`);
  }
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}
