/**
 * What terminals and HQ read from the sync hub: the change log by cursor (blacklist stream first),
 * the snapshot a terminal resets to, sync health per terminal, fraud alerts and parked ops.
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import type { Principal } from '../auth/principal.ts';
import { requireCinema } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { type Clock, isoTime } from '../store/ids.ts';
import type { CardRow } from '../cards/card-record.ts';
import { RedemptionRules } from '../rules/redemption-rules.ts';
import { cardState, logPosition, type Entity } from './change-log.ts';
import { syncMessages } from './messages.ts';

type S = components['schemas'];

interface ChangeRow {
  id: number | string;
  stream: string;
  entity: Entity;
  entity_key: string;
  cinema_id: string | null;
  payload: string;
}

function changeView(row: ChangeRow): S['SyncChange'] {
  const id = Number(row.id);
  const payload = JSON.parse(row.payload) as unknown;
  if (row.entity === 'card') return { id, entity: 'card', key: row.entity_key, card: payload as S['SyncCardState'] };
  if (row.entity === 'blacklist') return { id, entity: 'blacklist', key: row.entity_key, blacklist: payload as S['SyncBlacklistEntry'] };
  return { id, entity: 'rules', key: row.entity_key, rules: { cinemaId: row.entity_key, version: id, rules: payload as S['RedemptionRule'][] } };
}

export class SyncFeed {
  private readonly pulls = new Map<string, { cursor: number; at: string }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private positionRead: Promise<Awaited<ReturnType<typeof logPosition>>> | undefined;
  private readonly pages = new Map<string, Promise<Omit<S['SyncChanges'], 'head' | 'blacklistVersion' | 'logId'>>>();
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly rules: RedemptionRules,
  ) {}

  private terminalOf(principal: Principal): { terminalId: string; cinemaId: string } {
    if (!principal.terminal || !principal.cinemaId) throw new CentralError(syncMessages.sync_needs_terminal);
    return { terminalId: principal.terminal.id, cinemaId: principal.cinemaId };
  }

  async changes(principal: Principal, query: { cursor?: number; blacklistCursor?: number; limit?: number }): Promise<S['SyncChanges']> {
    const { terminalId, cinemaId } = this.terminalOf(principal);
    const cursor = query.cursor ?? 0;
    const blacklistCursor = query.blacklistCursor ?? 0;
    const limit = query.limit ?? 1000;
    const position = await this.sharedPosition();
    await this.notePull(terminalId, cursor);
    const base = { head: position.head, blacklistVersion: position.blacklistVersion, logId: position.logId };
    // Behind retention — or ahead of the head, which only a database restored from a backup makes
    // (ids past the restored head will be used again, so such a cursor would skip them): reset.
    // A cursor from a page read just after a coalesced position read can pass that position, so
    // "ahead" is confirmed on a fresh read.
    const ahead =
      (cursor > position.head || blacklistCursor > position.head) &&
      (await logPosition(this.db).then((fresh) => cursor > fresh.head || blacklistCursor > fresh.head));
    if (ahead || cursor < position.prunedThrough || blacklistCursor < position.prunedThrough) {
      return { reset: true, items: [], blacklist: [], cursor, blacklistCursor, hasMore: true, ...base };
    }
    // After a poke every terminal asks the same question at once: one read answers them all.
    // Change-log rows never change, so a page read at this head is the right answer to anyone
    // asking at this head (of this log: a restore makes another one).
    const key = `${position.logId}|${cinemaId}|${cursor}|${blacklistCursor}|${limit}|${position.head}|${position.blacklistVersion}`;
    let page = this.pages.get(key);
    if (!page) {
      page = this.readPage(cinemaId, cursor, blacklistCursor, limit, position.head);
      if (this.pages.size > 10_000) this.pages.clear();
      this.pages.set(key, page);
      const forget = () => setTimeout(() => this.pages.delete(key), 2000).unref();
      page.then(forget, () => this.pages.delete(key));
    }
    return { ...(await page), ...base };
  }

  /**
   * The log position, one read shared by the pulls that arrive while it is in flight. A position
   * read a moment before a request arrived is still a correct answer: the terminal's cursor stops
   * there and the next poke (or pull) takes it further; nothing is skipped.
   */
  private sharedPosition(): Promise<Awaited<ReturnType<typeof logPosition>>> {
    if (!this.positionRead) {
      this.positionRead = logPosition(this.db).finally(() => (this.positionRead = undefined));
    }
    return this.positionRead;
  }

  private async readPage(
    cinemaId: string,
    cursor: number,
    blacklistCursor: number,
    limit: number,
    head: number,
  ): Promise<Omit<S['SyncChanges'], 'head' | 'blacklistVersion' | 'logId'>> {
    // Rules of other cinemas are not this terminal's business.
    const visible = (q: Knex.QueryBuilder) => q.where((w) => w.whereNull('cinema_id').orWhere('cinema_id', cinemaId));
    const [blacklist, items] = await Promise.all([
      visible(this.db('change_log').where('stream', 'blacklist').where('id', '>', blacklistCursor)).orderBy('id').limit(limit).select<ChangeRow[]>('*'),
      visible(this.db('change_log').where('stream', 'data').where('id', '>', cursor)).orderBy('id').limit(limit).select<ChangeRow[]>('*'),
    ]);
    // A page ends at the last row read, or at the head when the stream was read to its end: rows
    // filtered out (other cinemas) are skipped for good, and nothing below the head can appear
    // later (ids follow commit order).
    const lastId = (rows: ChangeRow[], from: number) => {
      const last = rows.length > 0 ? Number(rows[rows.length - 1]!.id) : from;
      return rows.length === limit ? last : Math.max(from, last, head);
    };
    return {
      reset: false,
      blacklist: blacklist.map(changeView),
      items: items.map(changeView),
      blacklistCursor: lastId(blacklist, blacklistCursor),
      cursor: lastId(items, cursor),
      hasMore: blacklist.length === limit || items.length === limit,
    };
  }

  /**
   * Health bookkeeping of pulls, gathered in memory and written together every couple of seconds:
   * after a poke a thousand terminals pull at once, and a write each would be most of the work.
   */
  private async notePull(terminalId: string, cursor: number): Promise<void> {
    this.pulls.set(terminalId, { cursor, at: isoTime(this.clock.now()) });
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      const noted = [...this.pulls];
      this.pulls.clear();
      this.db
        .transaction(async (trx) => {
          for (const [id, p] of noted) await trx('sync_terminals').where({ terminal_id: id }).update({ last_seen_at: p.at, last_pull_at: p.at, cursor: p.cursor });
        })
        .catch(() => {});
    }, 2000);
    this.flushTimer.unref();
  }

  async snapshot(principal: Principal, query: { after?: string; limit?: number }): Promise<S['SyncSnapshot']> {
    const { cinemaId } = this.terminalOf(principal);
    const limit = query.limit ?? 2000;
    // Cursors first: whatever changes while the snapshot is read is pulled again afterwards.
    const position = await logPosition(this.db);
    const cardsQuery = this.db<CardRow>('cards').whereNot('state', 'made').orderBy('card_no').limit(limit);
    if (query.after) cardsQuery.where('card_no', '>', query.after);
    const [cards, listed, rules, rulesVersion] = await Promise.all([
      cardsQuery,
      query.after ? [] : this.db<CardRow>('cards').whereNotNull('blacklisted_at').orderBy('card_no'),
      query.after ? [] : this.rules.list(cinemaId),
      this.db('change_log').where({ entity: 'rules', entity_key: cinemaId }).max<{ m: number | null }>('id as m').first(),
    ]);
    return {
      cursor: position.head,
      blacklistCursor: position.head,
      logId: position.logId,
      blacklist: listed.map((c) => ({ cardNo: c.card_no, listed: true, reason: c.blacklist_reason, at: c.blacklisted_at! })),
      rules: { cinemaId, version: Number(rulesVersion?.m ?? 0), rules },
      cards: cards.map(cardState),
      nextAfter: cards.length === limit ? cards[cards.length - 1]!.card_no : null,
    };
  }

  /** HQ: every cinema's (or `cinemaId`'s); a cinema principal: its own only. */
  private scope(principal: Principal, cinemaId: string | undefined): string | null {
    if (cinemaId) {
      requireCinema(principal, cinemaId);
      return cinemaId;
    }
    return principal.cinemaId;
  }

  async health(principal: Principal, query: { cinemaId?: string }): Promise<S['SyncHealth']> {
    return syncHealth(this.db, this.scope(principal, query.cinemaId));
  }

  async fraudAlerts(principal: Principal, query: { cinemaId?: string; cardNo?: string; limit?: number }): Promise<S['FraudAlertList']> {
    const cinemaId = this.scope(principal, query.cinemaId);
    const q = this.db('fraud_alerts').orderBy('raised_at', 'desc').orderBy('id', 'desc').limit(query.limit ?? 100);
    if (cinemaId) q.where({ cinema_id: cinemaId });
    if (query.cardNo) q.where({ card_no: query.cardNo });
    const rows = await q.select<Record<string, string | null>[]>('*');
    return {
      items: rows.map((r) => ({
        id: r['id']!,
        cardNo: r['card_no']!,
        kind: r['kind'] as S['FraudAlert']['kind'],
        opId: r['op_id']!,
        otherOpId: r['other_op_id'] ?? null,
        terminalId: r['terminal_id'] ?? null,
        cinemaId: r['cinema_id'] ?? null,
        detail: r['detail']!,
        raisedAt: r['raised_at']!,
        hotlistedAt: r['hotlisted_at'] ?? null,
      })),
    };
  }

  async parked(principal: Principal, query: { cinemaId?: string; limit?: number }): Promise<S['ParkedOpList']> {
    const cinemaId = this.scope(principal, query.cinemaId);
    const q = this.db('sync_parked as p').orderBy('p.parked_at', 'desc').orderBy('p.id', 'desc').limit(query.limit ?? 100);
    if (cinemaId) q.join('sync_terminals as t', 't.terminal_id', 'p.terminal_id').where('t.cinema_id', cinemaId);
    const rows = await q.select<Record<string, string | number | null>[]>('p.*');
    return {
      items: rows.map((r) => ({
        id: String(r['id']),
        opId: String(r['op_id']),
        terminalId: String(r['terminal_id']),
        termSeq: Number(r['term_seq']),
        reason: String(r['reason']),
        detail: r['detail'] === null ? null : String(r['detail']),
        parkedAt: String(r['parked_at']),
        op: String(r['op']),
      })),
    };
  }
}

/**
 * Sync health of every terminal that has synced (or one cinema's): the change log's position and,
 * per terminal, its bookkeeping and lag (head − cursor). Two reads: the head row and
 * `sync_terminals`. The health API and the metrics endpoint both answer from it.
 */
export async function syncHealth(db: Knex, cinemaId: string | null, options: { enrolledOnly?: boolean } = {}): Promise<S['SyncHealth']> {
  const position = await logPosition(db);
  const q = db('sync_terminals').orderBy('terminal_id');
  if (cinemaId) q.where({ cinema_id: cinemaId });
  // Revoked terminals left out (the metrics: a till taken out of service is not one that went quiet).
  if (options.enrolledOnly) q.whereNotIn('terminal_id', db('terminals').whereNotNull('revoked_at').select('id'));
  const rows = await q.select<Record<string, unknown>[]>('*');
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    head: position.head,
    blacklistVersion: position.blacklistVersion,
    terminals: rows.map((r) => ({
      terminalId: r['terminal_id'] as string,
      cinemaId: r['cinema_id'] as string,
      nextSeq: Number(r['next_seq']),
      opsReceived: Number(r['ops_received']),
      lastSeenAt: (r['last_seen_at'] as string | null) ?? null,
      lastUploadAt: (r['last_upload_at'] as string | null) ?? null,
      lastPullAt: (r['last_pull_at'] as string | null) ?? null,
      clockSkewMs: num(r['clock_skew_ms']),
      pendingOps: num(r['pending_ops']),
      cursor: num(r['cursor']),
      lag: r['cursor'] === null || r['cursor'] === undefined ? null : Math.max(0, position.head - Number(r['cursor'])),
    })),
  };
}
