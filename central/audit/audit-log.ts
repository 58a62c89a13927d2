/**
 * The audit log: one row per administrative action, written in the same transaction as the action
 * (so an action is never recorded without happening, nor happens unrecorded).
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import { actorOf, type Principal } from '../auth/principal.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';

export interface AuditEvent {
  /** `<thing>.<verb>`, e.g. `cinema.create`. */
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string | null;
  /** The cinema the action concerns, if any (lets a cinema's entries be found). */
  readonly cinemaId: string | null;
  /** What changed. Never passwords, secrets or codes. */
  readonly details?: Readonly<Record<string, unknown>>;
}

interface AuditRow {
  id: string;
  at: string;
  actor_user_id: string | null;
  actor_terminal_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  cinema_id: string | null;
  details: string;
}

export type AuditEntry = components['schemas']['AuditEntry'];

export interface AuditQuery {
  readonly limit: number;
  readonly before?: string | undefined;
  readonly action?: string | undefined;
  readonly cinemaId?: string | undefined;
}

export class AuditLog {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async record(trx: Knex, actor: Principal | null, event: AuditEvent): Promise<void> {
    const { userId, terminalId } = actorOf(actor);
    await trx<AuditRow>('audit_log').insert({
      id: newId(),
      at: isoTime(this.clock.now()),
      actor_user_id: userId,
      actor_terminal_id: terminalId,
      action: event.action,
      target_type: event.targetType,
      target_id: event.targetId,
      cinema_id: event.cinemaId,
      details: JSON.stringify(event.details ?? {}),
    });
  }

  /** Newest first; `nextCursor` is set when older entries remain. */
  async list(query: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const q = this.db<AuditRow>('audit_log').orderBy('id', 'desc').limit(query.limit + 1);
    if (query.before) q.where('id', '<', query.before);
    if (query.action) q.where({ action: query.action });
    if (query.cinemaId) q.where({ cinema_id: query.cinemaId });
    const rows = await q;
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((row) => ({
        id: row.id,
        at: row.at,
        actorUserId: row.actor_user_id,
        actorTerminalId: row.actor_terminal_id,
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        cinemaId: row.cinema_id,
        details: JSON.parse(row.details) as Record<string, unknown>,
      })),
      nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }
}
