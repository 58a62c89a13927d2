/** Structured logs (pino). Secrets are redacted wherever they might appear in a logged object. */
import { pino, type DestinationStream, type Logger } from 'pino';

export const redactedPaths = [
  'password',
  'secret',
  'accessToken',
  'token',
  'code',
  'jwtSecret',
  'authorization',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.secret',
  '*.accessToken',
  '*.token',
  '*.jwtSecret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'config.jwtSecret',
  'config.databaseUrl',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'cinecard-central' } },
    destination,
  );
}
