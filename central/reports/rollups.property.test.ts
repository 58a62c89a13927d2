/**
 * The rollup kept on ingest equals a full recomputation from the op table, after randomized runs of
 * ops through the real HTTP API: redemptions and top-ups sent in a shuffled order (so some wait
 * behind a gap and are applied later), resent (duplicates), some not following from the balance,
 * cards used up and re-issued, at times around the chain's day boundary, by two cinemas' tills and
 * several cashiers; and redemptions uploaded through sync batches by two tills (ingest's
 * `addToRollups`). And `rebuildRollups` reproduces what ingest built.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Knex } from 'knex';
import type { Schemas } from '../client/index.ts';
import { describeCentral, ok, type EnrolledTerminal } from '../test-support/harness.ts';
import { makeCardType, makeCards } from '../cards/card-fixtures.ts';
import { wireOp, upload, type WireOp } from '../sync/test-ops.ts';
import { computeRollups, readRollups, rebuildRollups, rollupTimeZone, type StoredRollup } from './rollups.ts';

/** A card write as the property plans it; seqs are assigned in plan order. */
type Step =
  | { readonly kind: 'redeem'; readonly uses: number; readonly till: 0 | 1; readonly consumption: Schemas['ConsumptionType']; readonly cashier: string | null; readonly amountFen: number | null; readonly minute: number; readonly off: boolean }
  | { readonly kind: 'topup'; readonly uses: number; readonly minute: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('redeem' as const),
      uses: fc.integer({ min: 1, max: 4 }),
      till: fc.constantFrom(0 as const, 1 as const),
      consumption: fc.constantFrom('ticket' as const, 'concession' as const),
      cashier: fc.constantFrom(null, 'alice', 'bob', '收银员'),
      amountFen: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null }),
      // Around 16:00 UTC = midnight in Shanghai, over three days.
      minute: fc.integer({ min: 0, max: 3 * 1440 }),
      off: fc.boolean().map((b) => b && Math.random() < 0.2),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('topup' as const), uses: fc.integer({ min: 1, max: 5 }), minute: fc.integer({ min: 0, max: 3 * 1440 }) }) },
);

const plan = fc.record({
  cards: fc.array(
    fc.record({
      type: fc.constantFrom(0, 1),
      soldAt: fc.constantFrom(0 as const, 1 as const),
      steps: fc.array(step, { minLength: 1, maxLength: 6 }),
      reissue: fc.boolean(),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  seed: fc.integer(),
  resend: fc.integer({ min: 0, max: 3 }),
});

const base = Date.parse('2025-06-30T12:00:00.000Z');
const at = (minute: number) => new Date(base + minute * 60_000).toISOString();

function sortRows(rows: StoredRollup[]): StoredRollup[] {
  return [...rows].sort((a, b) => (canonical(a) < canonical(b) ? -1 : 1));
}

async function assertRollupMatches(db: Knex): Promise<void> {
  const kept = sortRows(await readRollups(db));
  assert.deepEqual(kept, sortRows(await computeRollups(db, await rollupTimeZone(db))));
  await rebuildRollups(db);
  assert.deepEqual(sortRows(await readRollups(db)), kept);
}

/** A deterministic shuffle (the property's seed), so a failure replays. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A row as text with its keys in order (rows from the database and from JavaScript list them differently). */
const canonical = (row: object) => JSON.stringify(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1)));

describeCentral('daily rollup = recomputation (property)', (central) => {
  let tills: [EnrolledTerminal, EnrolledTerminal];
  let types: [Schemas['CardType'], Schemas['CardType']];

  before(async () => {
    const c = central();
    const A = await c.createCinema('Rollup A');
    const B = await c.createCinema('Rollup B');
    tills = [await c.enrolTerminal(A.id), await c.enrolTerminal(B.id)];
    types = [await makeCardType(c, { usesPerCard: 12 }), await makeCardType(c, { usesPerCard: 15, settlementPricePerUseFen: 4200 })];
  });

  it('after random ops through the ledger API (shuffled, resent, gaps, used up, re-issued)', async () => {
    const c = central();
    const admin = c.admin.client;
    await fc.assert(
      fc.asyncProperty(plan, async ({ cards, seed, resend }) => {
        const sends: (() => Promise<unknown>)[] = [];
        const reissues: (() => Promise<unknown>)[] = [];
        for (const spec of cards) {
          const type = types[spec.type]!;
          const [card] = await makeCards(c, 1, type.id);
          const cardNo = card!.cardNo;
          ok(await admin.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo } }, body: { cinemaId: tills[spec.soldAt].cinemaId, seq: 2 } }));
          let remaining = type.usesPerCard;
          let seq = 2;
          for (const s of spec.steps) {
            if (s.kind === 'redeem') {
              if (remaining === 0) continue;
              const uses = Math.min(s.uses, remaining);
              remaining -= uses;
              seq += 1;
              const body: Schemas['LedgerOpCreate'] = {
                opId: crypto.randomUUID(),
                cardNo,
                seq,
                uses,
                // A till that disagrees with the shadow balance is believed (balance_mismatch).
                remainingAfter: s.off && remaining > 0 ? remaining - 1 : remaining,
                consumptionType: s.consumption,
                occurredAt: at(s.minute),
                ...(s.cashier !== null ? { cashier: s.cashier } : {}),
                ...(s.amountFen !== null ? { amountFen: s.amountFen } : {}),
              };
              if (s.off && remaining > 0) remaining -= 1;
              const till = tills[s.till];
              sends.push(() => till.client.POST('/v1/ledger/ops', { body }));
            } else {
              if (remaining === 0) continue;
              remaining += s.uses;
              seq += 1;
              const body = { opId: crypto.randomUUID(), seq, uses: s.uses, remainingAfter: remaining, occurredAt: at(s.minute) };
              // A top-up is refused unless the card is active when it arrives; that is fine here.
              sends.push(() => admin.POST('/v1/cards/{cardNo}/top-ups', { params: { path: { cardNo } }, body }));
            }
          }
          if (spec.reissue && remaining === 0) {
            const next = seq + 1;
            reissues.push(() => admin.POST('/v1/cards/{cardNo}/reissue', { params: { path: { cardNo } }, body: { cinemaId: tills[1 - spec.soldAt]!.cinemaId, seq: next } }));
          }
        }
        const order = shuffle(sends, seed);
        for (const send of order) await send();
        for (const send of order.slice(0, resend)) await send();
        for (const send of reissues) await send();
        await assertRollupMatches(c.platform.db);
      }),
      { numRuns: Number(process.env['CINECARD_PROPERTY_RUNS'] ?? 12) },
    );
  });

  it('after random redemptions uploaded through sync batches by two tills, the later seqs first', async () => {
    const c = central();
    const [card] = await makeCards(c, 1, types[1].id);
    const cardNo = card!.cardNo;
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo } }, body: { cinemaId: tills[0].cinemaId, seq: 2 } }));
    const termSeqs = new Map<string, number>();
    let seq = 2;
    let remaining = types[1].usesPerCard;
    const redemption = fc.record({
      till: fc.constantFrom(0, 1),
      minute: fc.integer({ min: 0, max: 3 * 1440 }),
      cashier: fc.constantFrom(null, 'alice', 'bob'),
      consumption: fc.constantFrom('ticket' as const, 'concession' as const),
      amountFen: fc.integer({ min: 0, max: 20_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(redemption, { minLength: 1, maxLength: 6 }), fc.boolean(), async (planned, laterFirst) => {
        const byTill: [WireOp[], WireOp[]] = [[], []];
        for (const p of planned) {
          if (remaining === 0) break;
          const till = tills[p.till as 0 | 1];
          const termSeq = (termSeqs.get(till.terminalId) ?? 0) + 1;
          termSeqs.set(till.terminalId, termSeq);
          remaining -= 1;
          seq += 1;
          byTill[p.till as 0 | 1].push(
            wireOp(till, termSeq, cardNo, seq, 1, remaining, {
              deviceTime: at(p.minute),
              operatorId: p.cashier,
              consumption: p.consumption,
              payload: JSON.stringify({ amountFen: p.amountFen }),
            }),
          );
        }
        // One till's batch holds the later seqs: uploaded first, they wait for the other's.
        for (const t of laterFirst ? [1, 0] : [0, 1]) if (byTill[t as 0 | 1].length > 0) await upload(tills[t as 0 | 1], byTill[t as 0 | 1]);
        await assertRollupMatches(c.platform.db);
      }),
      { numRuns: 10 },
    );
  });
});
