/** Recognises database failures that mean something to a client, on both dialects. */

interface DriverError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  constraint?: unknown;
}

export function isUniqueViolation(error: unknown): boolean {
  const e = error as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code === '23505') return true; // PostgreSQL unique_violation
  return e.code === 'SQLITE_CONSTRAINT' && String(e.message).includes('UNIQUE constraint failed');
}

export function isForeignKeyViolation(error: unknown): boolean {
  const e = error as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code === '23503') return true;
  return e.code === 'SQLITE_CONSTRAINT' && String(e.message).includes('FOREIGN KEY constraint failed');
}

/** The database is unreachable or busy: the client may retry. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'SQLITE_BUSY', '57P01', '57P03', '53300'].includes(String(e.code)) ||
    (typeof e.message === 'string' &&
      (e.message.startsWith('Knex: Timeout acquiring a connection') ||
        // node-postgres, when the server or the network drops a connection in use
        e.message.includes('Connection terminated') ||
        e.message.includes('Client has encountered a connection error')))
  );
}
