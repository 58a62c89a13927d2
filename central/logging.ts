/** Structured logs (pino). Secrets are redacted wherever they might appear in a logged object. */
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Keys whose values are secrets wherever they appear: credentials in request bodies (`password`,
 * `refreshToken`, a terminal's `secret`, a one-time enrolment `code`), tokens, the Authorization
 * and Cookie headers, the JWT signing key, and database URLs (they may carry a password).
 */
export const secretKeys = [
  'password',
  'currentPassword',
  'newPassword',
  'secret',
  'jwtSecret',
  'accessToken',
  'refreshToken',
  'token',
  'code',
  'authorization',
  'cookie',
  'set-cookie',
  'databaseUrl',
  'PGPASSWORD',
] as const;

const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`);

/** Each secret key at the top level and up to three levels down (pino's `*` matches one level). */
export const redactedPaths = secretKeys.flatMap((name) => [
  key(name).replace(/^\./, ''),
  `*${key(name)}`,
  `*.*${key(name)}`,
  `*.*.*${key(name)}`,
]);

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'cinecard-central' } },
    destination,
  );
}
