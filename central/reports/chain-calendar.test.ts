/**
 * Days in the chain's time zone: the day an op gets on ingest (`Intl`) and the day the SQL
 * recomputation gives it (offset spans added to the UTC time) agree on both databases, in zones
 * with and without clock changes and with half- and quarter-hour offsets.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { testDatabases, withScratchDatabase } from '../test-support/databases.ts';
import { dialectOf } from '../store/database.ts';
import { DayCutter, dayRangeInstants, localDay, localDaySql, offsetSegments } from './chain-calendar.ts';
import { rollupSegments } from './rollups.ts';

const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Australia/Adelaide', 'Asia/Kathmandu', 'UTC'];
const from = Date.parse('2020-01-01T00:00:00.000Z');
const to = Date.parse('2030-12-31T00:00:00.000Z');

describe('chain calendar', () => {
  it('cuts days at local midnight', () => {
    assert.equal(localDay(Date.parse('2025-03-01T15:59:59.999Z'), 'Asia/Shanghai'), '2025-03-01');
    assert.equal(localDay(Date.parse('2025-03-01T16:00:00.000Z'), 'Asia/Shanghai'), '2025-03-02');
    assert.deepEqual(dayRangeInstants('2025-03-02', '2025-03-02', 'Asia/Shanghai'), { since: '2025-03-01T16:00:00.000Z', until: '2025-03-02T16:00:00.000Z' });
    // A day with a clock change is 23 hours long.
    assert.deepEqual(dayRangeInstants('2025-03-09', '2025-03-09', 'America/New_York'), { since: '2025-03-09T05:00:00.000Z', until: '2025-03-10T04:00:00.000Z' });
    assert.equal(new DayCutter('Asia/Shanghai').dayOf('2025-03-01T16:07:00.000Z'), '2025-03-02');
  });

  it('finds the spans of constant offset', () => {
    assert.deepEqual(offsetSegments('Asia/Shanghai', from, to), [{ from: undefined, until: undefined, offsetMinutes: 480 }]);
    const ny = offsetSegments('America/New_York', Date.parse('2025-01-01T00:00:00Z'), Date.parse('2025-12-31T00:00:00Z'));
    assert.deepEqual(ny, [
      { from: undefined, until: '2025-03-09T07:00:00.000Z', offsetMinutes: -300 },
      { from: '2025-03-09T07:00:00.000Z', until: '2025-11-02T06:00:00.000Z', offsetMinutes: -240 },
      { from: '2025-11-02T06:00:00.000Z', until: undefined, offsetMinutes: -300 },
    ]);
  });

  it('reads whole months from month rows and partial months from day rows', () => {
    const plain = { day: false, cashier: false };
    assert.deepEqual(rollupSegments(undefined, undefined, plain), [{ grain: 'mc', from: undefined, to: undefined }]);
    assert.deepEqual(rollupSegments('2025-01-01', '2025-12-31', plain), [{ grain: 'mc', from: '2025-01', to: '2025-12' }]);
    assert.deepEqual(rollupSegments('2025-01-15', '2025-03-10', { day: false, cashier: true }), [
      { grain: 'd', from: '2025-01-15', to: '2025-01-31' },
      { grain: 'd', from: '2025-03-01', to: '2025-03-10' },
      { grain: 'm', from: '2025-02', to: '2025-02' },
    ]);
    assert.deepEqual(rollupSegments('2025-01-15', '2025-02-10', plain), [
      { grain: 'dc', from: '2025-01-15', to: '2025-01-31' },
      { grain: 'dc', from: '2025-02-01', to: '2025-02-10' },
    ]);
    assert.deepEqual(rollupSegments('2024-02-01', '2024-02-29', plain), [{ grain: 'mc', from: '2024-02', to: '2024-02' }]);
    assert.deepEqual(rollupSegments('2024-02-02', '2024-02-29', plain), [{ grain: 'dc', from: '2024-02-02', to: '2024-02-29' }]);
    assert.deepEqual(rollupSegments(undefined, '2025-03-10', plain), [{ grain: 'dc', from: '2025-03-01', to: '2025-03-10' }, { grain: 'mc', from: undefined, to: '2025-02' }]);
    assert.deepEqual(rollupSegments('2025-03-10', undefined, { day: true, cashier: false }), [{ grain: 'dc', from: '2025-03-10', to: undefined }]);
  });

  for (const database of testDatabases()) {
    it(`gives the same day in SQL as in JavaScript [${database.name}]`, async function () {
      this.timeout(60_000);
      await withScratchDatabase(database, async (db) => {
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...zones), fc.array(fc.integer({ min: from, max: to }), { minLength: 1, maxLength: 20 }), async (zone, instants) => {
            const segments = offsetSegments(zone, from, to);
            for (const ms of instants) {
              const iso = new Date(ms).toISOString();
              const { sql, bindings } = localDaySql(dialectOf(db), `'${iso}'`, segments);
              const row = (await db.first(db.raw(`${sql} as day`, bindings))) as { day: string };
              assert.equal(row.day, localDay(ms, zone), `${iso} in ${zone}`);
            }
          }),
          { numRuns: 40 },
        );
      });
    });
  }
});
