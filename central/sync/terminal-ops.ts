/**
 * A terminal's own ops as central recorded them (`GET /v1/sync/terminal-ops`, `spec/sync.md` §6):
 * what a wiped terminal restores its history and its term-seq position from. Three places hold
 * them — the shadow ledger (card writes), `sync_misc_ops` (blacklist changes, rebuild notes) and
 * `sync_parked` (refused ones, which still used their term seq) — merged in term-seq order.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Schemas } from '../client/index.ts';
import type { LedgerRow } from '../ledger/shadow-ledger.ts';

type WireOp = Schemas['SyncOp'];

/** Parked for a term seq or op id another accepted op holds: not the terminal's op at that seq. */
const notTheOpAtItsSeq = ['term_seq_reused', 'op_id_conflict'];

export async function terminalOps(db: Knex, terminalId: string, after: number, limit: number): Promise<Schemas['TerminalOpsPage']> {
  const next = await db('sync_terminals').where({ terminal_id: terminalId }).first<{ next_seq: number } | undefined>('next_seq');
  const ledger = await db<LedgerRow & { term_seq: number }>('ledger_entries')
    .where({ terminal_id: terminalId })
    .where('term_seq', '>', after)
    .orderBy('term_seq')
    .limit(limit + 1);
  const misc = await db('sync_misc_ops').where({ terminal_id: terminalId }).where('term_seq', '>', after).orderBy('term_seq').limit(limit + 1).select<{ op: string }[]>('op');
  const parked = await db('sync_parked')
    .where({ terminal_id: terminalId })
    .where('term_seq', '>', after)
    .whereNotIn('reason', notTheOpAtItsSeq)
    .orderBy('term_seq')
    .limit(limit + 1)
    .select<{ op: string; hash: string }[]>('op', 'hash');
  const all = [...ledger.map(fromLedger), ...misc.map((m) => fromStored(m.op)), ...parked.map((p) => fromStored(p.op, p.hash))]
    .filter((o): o is WireOp => o !== undefined)
    .sort((a, b) => a.termSeq - b.termSeq);
  const items = all.slice(0, limit);
  return { nextSeq: next?.next_seq ?? 1, items, hasMore: all.length > limit };
}

function fromLedger(row: LedgerRow & { term_seq: number }): WireOp {
  const loads = row.kind === 'reissue';
  return {
    opId: row.op_id,
    termSeq: row.term_seq,
    terminalId: row.terminal_id!,
    cinemaId: row.cinema_id!,
    kind: row.kind === 'topup' ? 'top_up' : row.kind,
    cardNo: row.card_no,
    cardSeq: row.seq,
    cardUid: null,
    operatorId: row.cashier,
    consumption: row.consumption_type,
    uses: loads ? row.remaining_after : Math.abs(row.uses_delta),
    remainingAfter: row.remaining_after,
    deviceTime: row.occurred_at,
    payload: row.amount_fen === null ? '{}' : JSON.stringify({ amountFen: row.amount_fen }),
    hash: row.content_hash,
  };
}

const int = z.number().int().nullable();
/** A stored op as the SyncOp schema allows; a field that does not fit comes back empty. */
const StoredOp = z.object({
  opId: z.string().min(1).max(64),
  termSeq: z.number().int().min(1).max(2_000_000_000),
  kind: z.string().max(16),
  cardNo: z.string().max(32),
  terminalId: z.string().max(64).catch(''),
  cinemaId: z.string().max(64).catch(''),
  cardSeq: int.catch(null),
  cardUid: z.string().max(20).nullable().catch(null),
  operatorId: z.string().max(64).nullable().catch(null),
  consumption: z.enum(['ticket', 'concession']).nullable().catch(null),
  uses: int.catch(null),
  remainingAfter: int.catch(null),
  deviceTime: z.string().max(40).catch(''),
  payload: z.string().max(8000).catch('{}'),
  hash: z.string().min(1).max(64).optional().catch(undefined),
});

/** A stored wire op (kept or parked); one too broken to stand for an op is left out. */
function fromStored(json: string, hash?: string): WireOp | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  const r = StoredOp.safeParse(raw);
  const opHash = hash || r.data?.hash;
  if (!r.success || !opHash) return undefined;
  return { ...r.data, hash: opHash.slice(0, 64) };
}
