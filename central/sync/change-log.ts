/**
 * The change log terminals pull (DESIGN §4). Ids come from the one `sync_head` row, updated inside
 * the writer's transaction: its row lock (PostgreSQL) or the single writer (SQLite) makes ids
 * follow commit order, so a reader that saw id n has seen every id below n — `id > cursor` never
 * skips a row (the `nextval` trap of reference §2). Writers allocate last, just before commit, so
 * the lock is held briefly.
 *
 * Items are full states (a card, a blacklist entry, a cinema's rules): applying one twice is
 * harmless, which is what lets a terminal replay after a crash.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import type { SyncBlacklistItem } from '../client/sync-messages.ts';
import type { CardRow } from '../cards/card-record.ts';
import { dialectOf } from '../store/database.ts';
import { insertRows, sqlQuery, type Column, type Statement } from './bulk.ts';

type S = components['schemas'];
export type SyncCardState = S['SyncCardState'];
export type SyncBlacklistEntry = S['SyncBlacklistEntry'];

export type Stream = 'blacklist' | 'data';
export type Entity = 'card' | 'blacklist' | 'rules';

export interface ChangeEntry {
  readonly stream: Stream;
  readonly entity: Entity;
  readonly key: string;
  readonly cinemaId: string | null;
  readonly payload: unknown;
}

export interface LogPosition {
  readonly head: number;
  readonly blacklistVersion: number;
}

/** The channel central instances NOTIFY on (PostgreSQL) with a {@link LogPosition}. */
export const SYNC_CHANNEL = 'cinecard_sync';

const columns: readonly Column[] = [
  { name: 'id', pg: 'int8' },
  { name: 'stream', pg: 'text' },
  { name: 'entity', pg: 'text' },
  { name: 'entity_key', pg: 'text' },
  { name: 'cinema_id', pg: 'uuid' },
  { name: 'payload', pg: 'text' },
  { name: 'created_at', pg: 'text' },
];

/**
 * Commits of change-log rows in this process, by database: the local hub pokes from here (on
 * PostgreSQL it also hears every instance's NOTIFY).
 */
export const changeLogCommits = new EventEmitter();
changeLogCommits.setMaxListeners(0);

/** Which database a knex instance (or transaction) talks to, as a key for {@link changeLogCommits}. */
export function databaseKey(db: Knex): string {
  return JSON.stringify(db.client.config.connection ?? null);
}

export function cardState(row: CardRow): SyncCardState {
  return {
    cardNo: row.card_no,
    uid: row.uid,
    cardTypeId: row.card_type_id,
    state: row.state,
    remainingUses: row.remaining_uses,
    appliedSeq: row.applied_seq,
    issueEpoch: row.issue_epoch,
    expiresAt: row.expires_at,
    recycledReason: row.recycled_reason,
    recycledAt: row.recycled_at,
    blacklisted: row.blacklisted_at !== null,
  };
}

export function cardChange(row: CardRow): ChangeEntry {
  return { stream: 'data', entity: 'card', key: row.card_no, cinemaId: null, payload: cardState(row) };
}

export function blacklistChange(row: CardRow, at: string): ChangeEntry {
  const entry: SyncBlacklistEntry = { cardNo: row.card_no, listed: row.blacklisted_at !== null, reason: row.blacklist_reason, at };
  return { stream: 'blacklist', entity: 'blacklist', key: row.card_no, cinemaId: null, payload: entry };
}

/**
 * Appends entries in the caller's transaction and returns the new position. Call it last in the
 * transaction: it takes the head lock.
 */
export async function appendChanges(trx: Knex.Transaction, entries: readonly ChangeEntry[], now: string): Promise<LogPosition | undefined> {
  if (entries.length === 0) return undefined;
  const blacklisted = entries.some((e) => e.stream === 'blacklist');
  const n = entries.length;
  const [row] = await sqlQuery<{ head: number | string; blacklist_version: number | string }>(
    trx,
    `UPDATE sync_head SET head = head + ?${blacklisted ? ', blacklist_version = head + ?' : ''} WHERE id = 1 RETURNING head, blacklist_version`,
    blacklisted ? [n, lastBlacklistOffset(entries)] : [n],
  );
  if (!row) throw new Error('sync_head has no row');
  const position = { head: Number(row.head), blacklistVersion: Number(row.blacklist_version) };
  const first = position.head - n + 1;
  await insertRows(
    trx,
    'change_log',
    columns,
    entries.map((e, i) => [first + i, e.stream, e.entity, e.key, e.cinemaId, JSON.stringify(e.payload), now]),
  );
  if (dialectOf(trx) === 'postgres') await trx.raw('SELECT pg_notify(?, ?)', [SYNC_CHANNEL, JSON.stringify(position)]);
  pokeOnCommit(trx, position);
  return position;
}

/**
 * Appending `entries` after `before` as statements of a SQLite script (the caller holds the write
 * lock, so the head it read is the head): the head's update and the log's rows, and the position
 * they make. Call {@link pokeOnCommit} once the script has run.
 */
export function appendStatements(entries: readonly ChangeEntry[], before: LogPosition, now: string): { position: LogPosition; head: Statement; rows: unknown[][] } {
  const n = entries.length;
  const offset = lastBlacklistOffset(entries);
  const position = { head: before.head + n, blacklistVersion: offset > 0 ? before.head + offset : before.blacklistVersion };
  return {
    position,
    head: { sql: 'UPDATE sync_head SET head = ?, blacklist_version = ? WHERE id = 1', params: [position.head, position.blacklistVersion] },
    rows: entries.map((e, i) => [before.head + 1 + i, e.stream, e.entity, e.key, e.cinemaId, JSON.stringify(e.payload), now]),
  };
}

export const changeLogColumns = columns;

/** Pokes this central's listeners with `position` once the outermost transaction commits (a savepoint's release commits nothing). */
export function pokeOnCommit(trx: Knex.Transaction, position: LogPosition): void {
  const key = databaseKey(trx);
  let top = trx as unknown as { executionPromise: Promise<unknown>; parentTransaction?: unknown };
  while (top.parentTransaction) top = top.parentTransaction as typeof top;
  top.executionPromise.then(
    () => changeLogCommits.emit(key, position),
    () => {},
  );
}

/** `blacklist_version = head_before + offset`: the 1-based position of the last blacklist entry. */
function lastBlacklistOffset(entries: readonly ChangeEntry[]): number {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.stream === 'blacklist') return i + 1;
  return 0;
}

export async function logPosition(db: Knex): Promise<LogPosition & { prunedThrough: number; logId: string }> {
  const row = await db('sync_head').where({ id: 1 }).first<{ head: number; blacklist_version: number; pruned_through: number; log_id: string }>();
  return { head: Number(row.head), blacklistVersion: Number(row.blacklist_version), prunedThrough: Number(row.pruned_through), logId: row.log_id };
}

/**
 * Gives the change log a new id (`spec/sync.md` § Central restored from a backup): after a restore
 * the ids from the restored head on are used again, so every terminal must see that its cursor
 * belongs to another log and reset. A database from before the log id's migration gets one when it
 * migrates.
 */
export async function renewLogId(db: Knex): Promise<string | undefined> {
  if (!(await db.schema.hasColumn('sync_head', 'log_id'))) return undefined;
  const logId = randomUUID();
  await db('sync_head').where({ id: 1 }).update({ log_id: logId });
  return logId;
}

/**
 * The blacklist-stream rows with `after < id ≤ upTo` as the poke hub sends them ahead of a poke
 * (`spec/sync.md` §5), or undefined when there are more than `max` or one is not for every terminal
 * (then terminals pull). Rows up to a position a commit announced are committed (ids follow commit
 * order), so the read is complete.
 */
export async function readBlacklistRows(db: Knex, after: number, upTo: number, max = 50): Promise<SyncBlacklistItem[] | undefined> {
  const rows: { id: number | string; cinema_id: string | null; payload: string }[] = await db('change_log')
    .where('stream', 'blacklist')
    .where('id', '>', after)
    .where('id', '<=', upTo)
    .orderBy('id')
    .limit(max + 1)
    .select('id', 'cinema_id', 'payload');
  if (rows.length > max || rows.some((r) => r.cinema_id !== null)) return undefined;
  return rows.map((r) => {
    const entry = JSON.parse(r.payload) as SyncBlacklistEntry;
    return { id: Number(r.id), cardNo: entry.cardNo, listed: entry.listed, reason: entry.reason, at: entry.at };
  });
}

/** Drops rows created before `before` (retention); cursors older than the last dropped id reset. */
export async function pruneChangeLog(db: Knex, before: string): Promise<number> {
  return db.transaction(async (trx) => {
    const last = await trx('change_log').where('created_at', '<', before).max<{ m: number | null }>('id as m').first();
    const through = Number(last?.m ?? 0);
    if (through === 0) return 0;
    const removed = await trx('change_log').where('id', '<=', through).del();
    await trx('sync_head').where({ id: 1 }).update({ pruned_through: through }).where('pruned_through', '<', through);
    return removed;
  });
}
