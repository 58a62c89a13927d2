/**
 * `npm run bench -- card`: reading + verifying a card and writing a record + reading it back, p50
 * and p99, through the in-process reader and through pcsc-mini → pcscd → vpcd (the card lab's
 * quickack namespace), each beside its floor: the very APDUs the operation sent, replayed bare in the
 * same run. Budget (issue 2, DESIGN §7): p99 ≤ 1.5 × the floor's p99.
 */
import type { CardSession } from '../adapters/card-reader.ts';
import { demoCardKeys } from '../adapters/keys/demo-card-keys.ts';
import type { CardRecordInput, CardStaticInput } from '../plugin/card/card-data.ts';
import { isReadable, type CardReadable } from '../plugin/card/card-outcome.ts';
import { InMemoryCardWriteJournal } from '../plugin/card/card-write-journal.ts';
import { MifareClassicProfile } from '../plugin/card/mifare-classic-profile.ts';
import { inProcessFixture, type CardFixture } from '../test-support/card-fixture.ts';
import { pcscFixture, startCardLab } from '../test-support/cardlab.ts';
import { msSince, percentile, round, type BenchRow } from './report.ts';

const WARMUP = 20;
const ROUNDS = Number(process.env.BENCH_CARD_ROUNDS ?? 300);
const NOW = Math.floor(Date.UTC(2026, 10, 25) / 1000);

/** A session that records every APDU sent through it, for the bare replay. */
function recording(session: CardSession, trace: Uint8Array[]): CardSession {
  return {
    get id() { return session.id; },
    get reader() { return session.reader; },
    get atr() { return session.atr; },
    get present() { return session.present; },
    transmit(apdu, options) {
      trace.push(Uint8Array.from(apdu));
      return session.transmit(apdu, options);
    },
    reset: () => session.reset(),
  };
}

async function replay(session: CardSession, trace: readonly Uint8Array[]): Promise<void> {
  for (const apdu of trace) await session.transmit(apdu);
}

function expectReadable(o: Awaited<ReturnType<MifareClassicProfile['read']>>): CardReadable {
  if (!isReadable(o)) throw new Error(`bench card did not read: ${o.kind}`);
  return o;
}

async function measure(fx: CardFixture, label: string, readBudgetMs: number | null, writeBudgetMs: number | null): Promise<BenchRow[]> {
  const keys = demoCardKeys();
  const profile = new MifareClassicProfile(keys);
  const journal = new InMemoryCardWriteJournal();
  const uses = WARMUP + ROUNDS + 10;
  const data: CardStaticInput = {
    cardType: 1, blocked: false, cardNumber: 990_000_000_001n, issuedAt: NOW, originalExpiry: NOW + 365 * 86_400,
    initialUses: uses, chainId: 1, issuingCinema: 1,
  };
  const initial: CardRecordInput = {
    remainingUses: uses, lifetimeUsesLoaded: uses, expiry: data.originalExpiry, status: 'active',
    lastTxTime: NOW, lastCinema: 1, lastTerminal: 1, lastAmount: -uses, lastTxKind: 'issue',
  };
  const session = await fx.insert();
  await profile.personalise(session, data, initial);

  // Each round times the operation, then the very APDUs it sent, replayed bare: both see the same
  // machine, so the ratio compares like with like.
  const reads: number[] = [], readFloor: number[] = [];
  const writes: number[] = [], writeFloor: number[] = [];
  let readApdus = 0, writeApdus = 0;
  let current = expectReadable(await profile.read(session));
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const keep = i >= WARMUP;
    const readTrace: Uint8Array[] = [];
    let t = process.hrtime.bigint();
    current = expectReadable(await profile.read(recording(session, readTrace)));
    if (keep) reads.push(msSince(t));
    t = process.hrtime.bigint();
    await replay(session, readTrace);
    if (keep) readFloor.push(msSince(t));

    const r = current.record;
    const next: CardRecordInput = {
      remainingUses: r.remainingUses - 1, lifetimeUsesLoaded: r.lifetimeUsesLoaded, expiry: r.expiry, status: 'active',
      lastTxTime: NOW + r.seq, lastCinema: 2, lastTerminal: 3, lastAmount: 1, lastTxKind: 'redeem',
    };
    const writeTrace: Uint8Array[] = [];
    t = process.hrtime.bigint();
    current = (await profile.writeRecord(recording(session, writeTrace), current, next, journal)).card;
    if (keep) writes.push(msSince(t));
    // The same bytes again: the card holds the record just written, so this changes nothing.
    t = process.hrtime.bigint();
    await replay(session, writeTrace);
    if (keep) writeFloor.push(msSince(t));
    readApdus = readTrace.length;
    writeApdus = writeTrace.length;
  }
  const finalCard = expectReadable(await profile.read(session));
  const expectedLeft = uses - (WARMUP + ROUNDS);
  if (finalCard.record.remainingUses !== expectedLeft) {
    throw new Error(`after the bench the card holds ${finalCard.record.remainingUses} uses, expected ${expectedLeft}`);
  }
  await fx.remove();

  const rows: BenchRow[] = [];
  const add = (op: string, samples: number[], floor: number[], apdus: number, budgetMs: number | null) => {
    const p50 = round(percentile(samples, 50)), p99 = round(percentile(samples, 99));
    const f50 = round(percentile(floor, 50)), f99 = round(percentile(floor, 99));
    rows.push({ name: `card.${op}.${label}.p50`, value: p50, unit: 'ms', budget: '—', baseline: f50, ok: null });
    rows.push({
      name: `card.${op}.${label}.p99`, value: p99, unit: 'ms',
      budget: budgetMs === null ? '—' : `≤ ${budgetMs}`, baseline: f99, ok: budgetMs === null ? null : p99 <= budgetMs,
    });
    // The ratio budget is about what the software adds to the card I/O; in-process there is no I/O
    // (the floor is microseconds), so there the ratio is shown but not judged.
    const ratio = round(p99 / f99);
    rows.push({
      name: `card.${op}.${label}.p99_vs_floor`, value: ratio, unit: '×',
      budget: budgetMs === null ? '—' : '≤ 1.5 × floor', baseline: f99, ok: budgetMs === null ? null : ratio <= 1.5,
    });
    rows.push({ name: `card.${op}.${label}.apdus`, value: apdus, unit: 'APDUs', budget: '—', baseline: null, ok: null });
  };
  add('read', reads, readFloor, readApdus, readBudgetMs);
  add('write', writes, writeFloor, writeApdus, writeBudgetMs);
  return rows;
}

export async function cardBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const local = await inProcessFixture();
  try {
    rows.push(...(await measure(local, 'in_process', null, null)));
  } finally {
    await local.dispose();
  }
  const lab = await startCardLab();
  try {
    const fx = await pcscFixture(lab);
    try {
      // DESIGN §7 budgets for the PC/SC path: a tap's read within 50 ms, a write within 80 ms (p99).
      rows.push(...(await measure(fx, lab.quickack ? 'pcscd_vpcd' : 'pcscd_vpcd_no_quickack', 50, 80)));
    } finally {
      await fx.dispose();
    }
  } finally {
    await lab.stop();
  }
  return rows;
}
