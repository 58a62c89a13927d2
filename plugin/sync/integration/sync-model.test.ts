/**
 * Property test of the whole sync (DESIGN §8, reference fault test 16): random taps on shared
 * cards at several tills, random sync rounds under faults — a response lost after commit, a
 * partition, a till killed mid-upload — then the network heals. Checked against the physical
 * cards (the model): every op applied exactly once; each card's shadow balance and seq equal the
 * card's; no per-terminal gaps; every till converges to central's head.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeCentral, ok } from '../../../central/test-support/harness.ts';
import { soldCards } from '../../../central/sync/test-ops.ts';
import { logPosition } from '../../../central/sync/change-log.ts';
import { SimTerminal, type SimCard } from './terminal-fixture.ts';

type Fault = 'none' | 'lost_response' | 'partition' | 'kill';
type Action = { type: 'tap'; till: number; card: number; uses: number } | { type: 'sync'; till: number; fault: Fault };

const TILLS = 3;
const CARDS = 2;
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('tap' as const), till: fc.nat(TILLS - 1), card: fc.nat(CARDS - 1), uses: fc.integer({ min: 1, max: 2 }) }), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('sync' as const), till: fc.nat(TILLS - 1), fault: fc.constantFrom<Fault>('none', 'lost_response', 'partition', 'kill') }), weight: 2 },
);

const isBatch = (input: unknown) => String((input as Request).url ?? input).includes('/v1/sync/batches');

describeCentral('sync model (random taps, faults, retries)', (central) => {
  let cinemaId: string;
  before(async () => {
    cinemaId = (await central().createCinema('Model cinema')).id;
  });

  it('every op once, shadow = card, no gaps, every till converges', async function () {
    this.timeout(180_000);
    const runs = Number(process.env['CINECARD_SYNC_MODEL_RUNS'] ?? 12);
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 25 }), async (actions) => {
        const c = central();
        const url = c.url;
        const cards: SimCard[] = (await soldCards(c, cinemaId, CARDS, 100)).map((x) => ({ cardNo: x.cardNo, uid: x.uid, seq: 2, remaining: 100 }));
        const tills: SimTerminal[] = [];
        for (let i = 0; i < TILLS; i++) tills.push(await SimTerminal.open(await c.enrolTerminal(cinemaId)));
        const made = tills.map(() => 0);
        try {
          for (const a of actions) {
            const t = tills[a.till]!;
            if (a.type === 'tap') {
              const card = cards[a.card]!;
              if (card.remaining < a.uses) continue;
              await t.redeem(card, a.uses);
              made[a.till]!++;
              continue;
            }
            if (a.fault === 'none') {
              await t.sync([url]).syncNow();
            } else if (a.fault === 'partition') {
              const down: typeof fetch = async () => {
                throw new TypeError('network unreachable');
              };
              await assert.rejects(t.sync([url], { fetch: down }).syncNow());
            } else if (a.fault === 'lost_response') {
              const lossy: typeof fetch = async (input, init) => {
                const response = await fetch(input, init);
                if (isBatch(input)) throw new TypeError('connection reset after commit');
                return response;
              };
              if ((await t.store.pendingCount()) > 0) await assert.rejects(t.sync([url], { fetch: lossy }).syncNow());
            } else {
              // Killed while central commits its batch: the till never reads the answer.
              let reached = false;
              const hang: typeof fetch = async (input, init) => {
                const response = await fetch(input, init);
                if (isBatch(input)) {
                  reached = true;
                  await new Promise(() => {});
                }
                return response;
              };
              if ((await t.store.pendingCount()) > 0) {
                t.sync([url], { fetch: hang }).start();
                for (let i = 0; i < 500 && !reached; i++) await new Promise((r) => setTimeout(r, 5));
              }
              await t.crashAndReopen();
            }
          }
          // The network heals: every till uploads, then every till pulls to the head.
          for (const t of tills) await t.sync([url]).syncNow();
          for (const t of tills) await t.service!.syncNow();

          const db = c.platform.db;
          const head = (await logPosition(db)).head;
          for (const [i, t] of tills.entries()) {
            const ops = await t.store.db('ops').select<{ op_id: string; term_seq: number }[]>('op_id', 'term_seq');
            assert.equal(ops.length, made[i]);
            const stored = await db('ledger_entries').where({ terminal_id: t.enrolled.terminalId }).select<{ op_id: string }[]>('op_id');
            assert.deepEqual(stored.map((r) => r.op_id).sort(), ops.map((o) => o.op_id).sort(), 'each op applied exactly once');
            assert.equal(await t.store.pendingCount(), 0);
            const progress = await db('sync_terminals').where({ terminal_id: t.enrolled.terminalId }).first<{ next_seq: number } | undefined>('next_seq');
            assert.equal(progress?.next_seq ?? 1, made[i]! + 1, 'no per-terminal gap');
            assert.equal(Number(await t.store.getMeta('sync.cursor')), head, 'converged to the head');
          }
          for (const card of cards) {
            const stored = ok(await c.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: card.cardNo } } }));
            assert.equal(stored.remainingUses, card.remaining, 'shadow balance = card balance');
            const row = await db('cards').where({ card_no: card.cardNo }).first<{ applied_seq: number }>('applied_seq');
            assert.equal(row.applied_seq, card.seq);
            for (const t of tills) {
              const replica = await t.store.db('cards').where({ card_no: card.cardNo }).first<{ remaining: number } | undefined>('remaining');
              assert.equal(replica?.remaining, card.remaining, 'the till replica converged');
            }
          }
        } finally {
          for (const t of tills) await t.close();
        }
      }),
      { numRuns: runs },
    );
  });
});
