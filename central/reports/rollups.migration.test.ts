/**
 * Migration 20250702000000_report_grains fills the new rollup with a frozen copy of the rebuild of
 * its time (so a later change to `rollups.ts` cannot change what an old database gets): a database
 * holding ops from before that migration, migrated, holds the rollup today's `rebuildRollups` makes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import { migrateToBefore, migrateToLatest } from '../store/migration-source.ts';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';
import { readRollups, rebuildRollups, type StoredRollup } from './rollups.ts';

const grainsMigration = '20250702000000_report_grains';
const t = '2025-01-01T00:00:00.000Z';
const ids = {
  cinemaA: '01900000-0000-7000-8000-00000000000a',
  cinemaB: '01900000-0000-7000-8000-00000000000b',
  type1: '01900000-0000-7000-8000-000000000011',
  type2: '01900000-0000-7000-8000-000000000012',
  batch1: '01900000-0000-7000-8000-000000000021',
  batch2: '01900000-0000-7000-8000-000000000022',
};

/** Cards and ops as central wrote them before the migration (the schema of 20250701). */
async function seedOldOps(db: Knex, timeZone: string): Promise<void> {
  await db('report_settings').where({ id: 1 }).update({ time_zone: timeZone });
  await db('cinemas').insert([
    { id: ids.cinemaA, code: 'A', name: 'Cinema A', created_at: t, updated_at: t },
    { id: ids.cinemaB, code: 'B', name: 'Cinema B', created_at: t, updated_at: t },
  ]);
  const type = (id: string, name: string) => ({ id, name, uses_per_card: 10, settlement_price_fen: 3000, concession_value_fen: 1000, validity_days: 365, created_at: t, updated_at: t });
  await db('card_types').insert([type(ids.type1, 'Ten'), type(ids.type2, 'Other')]);
  await db('card_batches').insert([
    { id: ids.batch1, card_type_id: ids.type1, card_count: 2, made_at: t },
    { id: ids.batch2, card_type_id: ids.type2, card_count: 1, made_at: t },
  ]);
  const card = (card_no: string, uid: string, card_type_id: string, batch_id: string, issue_epoch: number) => ({
    card_no, uid, card_type_id, batch_id, state: 'active', issue_epoch, issue_from_seq: 1, issued_uses: 10, remaining_uses: 5,
    applied_seq: 9, max_seq: 9, expires_at: '2026-12-31T00:00:00.000Z', cinema_id: ids.cinemaA, made_at: t, updated_at: t,
  });
  // Card 1 was sold as type 2, used up and re-issued as type 1: its first issue's ops stay type 2.
  // Card 2 has no issue rows (its current type counts); card 3 is type 2.
  await db('cards').insert([card('1000000001', 'AA01', ids.type1, ids.batch1, 2), card('1000000002', 'AA02', ids.type1, ids.batch1, 1), card('1000000003', 'AA03', ids.type2, ids.batch2, 1)]);
  await db('card_issues').insert([
    { card_no: '1000000001', epoch: 1, from_seq: 1, card_type_id: ids.type2, cinema_id: ids.cinemaA, uses: 2, issued_at: t },
    { card_no: '1000000001', epoch: 2, from_seq: 4, card_type_id: ids.type1, cinema_id: ids.cinemaB, uses: 10, issued_at: t },
  ]);
  let n = 0;
  const op = (card_no: string, seq: number, kind: string, uses_delta: number, remaining_after: number, occurred_at: string, more: Record<string, unknown> = {}) => ({
    op_id: `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`, card_no, seq, kind, uses_delta, remaining_after,
    consumption_type: null, amount_fen: null, cinema_id: ids.cinemaA, terminal_id: null, user_id: null, cashier: null,
    occurred_at, recorded_at: occurred_at, content_hash: 'h'.repeat(64), status: 'applied', anomaly: null, issue_epoch: 1, ...more,
  });
  const redeem = (uses: number, consumption: string, cashier: string | null, amount: number | null) => ({ consumption_type: consumption, cashier, amount_fen: amount });
  await db('ledger_entries').insert([
    op('1000000001', 1, 'activate', 2, 2, '2025-02-27T15:30:00.000Z'),
    op('1000000001', 2, 'redeem', -1, 1, '2025-02-28T16:10:00.000Z', redeem(1, 'ticket', 'alice', 3500)),
    op('1000000001', 3, 'redeem', -1, 0, '2025-03-01T03:00:00.000Z', redeem(1, 'concession', null, null)),
    op('1000000001', 4, 'reissue', 9, 10, '2025-03-08T23:00:00.000Z', { issue_epoch: 2, cinema_id: ids.cinemaB }),
    // Around New York's clock change (2025-03-09 07:00 UTC) and Shanghai's midnight (16:00 UTC).
    op('1000000001', 5, 'redeem', -2, 8, '2025-03-09T06:30:00.000Z', { ...redeem(2, 'ticket', '收银员', 7000), issue_epoch: 2, cinema_id: ids.cinemaB }),
    op('1000000001', 6, 'redeem', -1, 7, '2025-03-09T07:30:00.000Z', { ...redeem(1, 'ticket', '收银员', 3500), issue_epoch: 2, cinema_id: ids.cinemaB }),
    op('1000000001', 7, 'topup', 3, 10, '2025-03-31T16:30:00.000Z', { issue_epoch: 2 }),
    op('1000000002', 1, 'activate', 10, 10, '2025-02-01T00:00:00.000Z'),
    op('1000000002', 2, 'redeem', -10, 0, '2025-02-02T12:00:00.000Z', { ...redeem(10, 'ticket', 'bob', 0), anomaly: 'previous_issue' }),
    op('1000000002', 3, 'redeem', -1, 9, '2025-04-01T04:59:00.000Z', { ...redeem(1, 'ticket', 'bob', 3000), status: 'waiting', cinema_id: null }),
    op('1000000003', 1, 'activate', 10, 10, '2025-03-09T06:59:00.000Z', { cinema_id: ids.cinemaB }),
    op('1000000003', 2, 'renew', 0, 10, '2025-03-10T06:59:00.000Z', { cinema_id: ids.cinemaB }),
  ]);
}

const canonical = (r: StoredRollup) => [r.grain, r.period, r.cinema_id, r.card_type_id, r.kind, r.consumption_type, r.cashier].join('|');
const sorted = (rows: StoredRollup[]) => [...rows].sort((a, b) => (canonical(a) < canonical(b) ? -1 : 1));

describe('migration 20250702 (rollup grains) on a database with older ops', () => {
  it('computes the rollup with its own frozen SQL, not with rollups.ts', () => {
    const source = readFileSync(new URL(`../store/migrations/${grainsMigration}.ts`, import.meta.url), 'utf8');
    assert.doesNotMatch(source, /from '\.\.\/\.\.\/|import\(/, 'the migration imports nothing of the application');
  });

  for (const database of testDatabases()) {
    for (const timeZone of ['Asia/Shanghai', 'America/New_York']) {
      it(`leaves the rollup today's rebuild makes [${database.name}, ${timeZone}]`, () =>
        withScratchDatabase(database, async (db) => {
          await migrateToBefore(db, grainsMigration);
          await seedOldOps(db, timeZone);
          await migrateToLatest(db);
          const migrated = sorted(await readRollups(db));
          assert.deepEqual(new Set(migrated.map((r) => r.grain)), new Set(['d', 'dc', 'm', 'mc']));
          assert.ok(migrated.some((r) => r.grain === 'd' && r.kind === 'redeem' && r.exhausted === 1), 'a card used up is counted');
          assert.ok(migrated.some((r) => r.card_type_id === ids.type2 && r.cinema_id === ids.cinemaA && r.kind === 'redeem'), "a re-issued card's first issue keeps its type");
          await rebuildRollups(db);
          assert.deepEqual(migrated, sorted(await readRollups(db)));
        }));
    }
  }
});
