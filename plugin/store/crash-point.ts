/**
 * Crash points: named places where a test may have this process killed outright (SIGKILL, so no
 * handler, flush or `finally` runs), to prove what survives. Off unless `CINECARD_CRASH_POINT` names
 * the point; reading one environment variable is all it costs in production.
 */
export type CrashPointName =
  /** The card write was read back; the journal completion (op + card cache) has not committed. */
  | 'card_write.after_read_back'
  /** The journal entry is durable; no write APDU has been sent yet. */
  | 'card_write.after_begin';

export function crashPoint(name: CrashPointName): void {
  if (process.env.CINECARD_CRASH_POINT === name) process.kill(process.pid, 'SIGKILL');
}
