/**
 * Test helpers for the sync hub: wire ops shaped like the terminal store's (`plugin/store/`), and
 * cards with room for many uses. Central may not import the plugin, so the shape is rebuilt here
 * from the wire contract.
 */
import { createHash } from 'node:crypto';
import { v7 } from 'uuid';
import type { Schemas } from '../client/index.ts';
import { makeCardType, makeCards } from '../cards/card-fixtures.ts';
import { ok, type EnrolledTerminal, type TestCentral } from '../test-support/harness.ts';

export type WireOp = Schemas['SyncOp'];

/** A redemption as terminal `t` would upload it; the hash covers every field, like `opHash`. */
export function wireOp(
  t: Pick<EnrolledTerminal, 'terminalId' | 'cinemaId'>,
  termSeq: number,
  cardNo: string,
  cardSeq: number,
  uses: number,
  remainingAfter: number,
  over: Partial<WireOp> = {},
): WireOp {
  const base: Omit<WireOp, 'hash'> = {
    opId: v7(),
    termSeq,
    terminalId: t.terminalId,
    cinemaId: t.cinemaId,
    kind: 'redeem',
    cardNo,
    cardSeq,
    consumption: 'ticket',
    uses,
    remainingAfter,
    deviceTime: new Date().toISOString(),
    payload: '{}',
    ...over,
  };
  return { ...base, hash: over.hash ?? rehash(base) };
}

export function rehash(op: Omit<WireOp, 'hash'>): string {
  const { hash: _h, ...rest } = op as WireOp;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** `count` cards sold at `cinemaId`, each with `uses` uses, record at seq 2. */
export async function soldCards(central: TestCentral, cinemaId: string, count: number, uses = 1000): Promise<Schemas['Card'][]> {
  const type = await makeCardType(central, { usesPerCard: uses });
  const cards = await makeCards(central, count, type.id);
  const sold: Schemas['Card'][] = [];
  for (const card of cards) {
    sold.push(ok(await central.admin.client.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo: card.cardNo } }, body: { cinemaId, seq: 2 } })));
  }
  return sold;
}

export async function upload(t: EnrolledTerminal, ops: WireOp[], extra: Partial<Schemas['SyncBatch']> = {}): Promise<Schemas['SyncBatchResult']> {
  return ok(await t.client.POST('/v1/sync/batches', { body: { ops, deviceTime: new Date().toISOString(), ...extra } }));
}
