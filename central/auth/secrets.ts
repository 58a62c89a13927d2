/**
 * High-entropy secrets (terminal secrets, enrolment codes): random, shown once, stored as SHA-256.
 * A slow hash buys nothing for 128+ bits of randomness.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export function newTerminalSecret(): string {
  return randomBytes(32).toString('base64url');
}

// Crockford base32 without I, L, O, U: easy to read aloud and to type on a till.
const codeAlphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `XXXX-XXXX-XXXX`: 60 bits, single use, short-lived, rate limited. */
export function newEnrolmentCode(): string {
  const chars = Array.from({ length: 12 }, () => codeAlphabet[randomInt(codeAlphabet.length)]);
  return [0, 4, 8].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

/** The canonical form of a typed code: upper case, no separators or spaces, O→0, I/L→1. */
export function normaliseEnrolmentCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
