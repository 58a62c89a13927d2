/**
 * Migration 20251201000000_card_type_prices on a database with card types made before it: each type
 * gets its first price row, with its prices of the time, in force from the beginning; `down` drops
 * the table again.
 */
import assert from 'node:assert/strict';
import { MigrationDirectory, migrateToBefore, migrateToLatest } from '../store/migration-source.ts';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';
import { priceHistory, pricesFromTheBeginning } from './card-type-prices.ts';

const pricesMigration = '20251201000000_card_type_prices';
const made = '2025-06-01T08:00:00.000Z';
const changed = '2025-10-20T09:30:00.000Z';
const ids = {
  priced: '01900000-0000-7000-8000-000000000031',
  unpriced: '01900000-0000-7000-8000-000000000032',
};

describe('migration 20251201 (card type prices) on a database with card types', () => {
  for (const database of testDatabases()) {
    it(`gives every existing type its current prices from the beginning, and goes down [${database.name}]`, () =>
      withScratchDatabase(database, async (db) => {
        await migrateToBefore(db, pricesMigration);
        const type = { uses_per_card: 10, concession_value_fen: 1000, validity_days: 365, created_at: made };
        await db('card_types').insert([
          { ...type, id: ids.priced, name: 'Priced', settlement_price_fen: 3200, sale_price_fen: 28000, updated_at: changed },
          { ...type, id: ids.unpriced, name: 'Unpriced', settlement_price_fen: 2500, sale_price_fen: null, updated_at: made },
        ]);
        assert.deepEqual(await migrateToLatest(db), [pricesMigration]);
        const rows = await db('card_type_prices').orderBy('card_type_id').select('card_type_id', 'effective_from');
        assert.deepEqual(rows, [
          { card_type_id: ids.priced, effective_from: pricesFromTheBeginning },
          { card_type_id: ids.unpriced, effective_from: pricesFromTheBeginning },
        ]);
        assert.deepEqual(await priceHistory(db, ids.priced), [{ effectiveFrom: null, settlementPricePerUseFen: 3200, salePriceFen: 28000, changedAt: changed }]);
        assert.deepEqual(await priceHistory(db, ids.unpriced), [{ effectiveFrom: null, settlementPricePerUseFen: 2500, salePriceFen: null, changedAt: made }]);
        await assert.rejects(
          db('card_type_prices').insert({ card_type_id: '01900000-0000-7000-8000-000000000039', effective_from: '2025-01-01', settlement_price_fen: 1, changed_at: made }),
          'a price row of a card type that does not exist is refused',
        );
        await db.migrate.down({ migrationSource: new MigrationDirectory() }); // the last batch: this migration
        assert.equal(await db.schema.hasTable('card_type_prices'), false);
        assert.equal((await db('card_types').count<{ n: number | string }[]>({ n: '*' }))[0]!.n.toString(), '2');
      }));
  }
});
