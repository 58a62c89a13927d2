/**
 * HQ automation with the generated client (`cinecard/client`) only — the kind of script HQ runs
 * from a scheduler or by hand:
 *
 *   npx tsx examples/hq-automation/hq-automation.ts [--central http://127.0.0.1:8480]
 *       [--user admin --password …] [--batch cards.csv] [--from 2026-11-01 --to 2026-11-30]
 *       [--out settlement.xlsx]
 *
 * 1. logs in as an HQ admin;
 * 2. makes sure the card type exists (found by name, created if missing — safe to run again);
 * 3. registers a batch of made cards as the card maker hands it over: a CSV of `cardNo,uid` lines
 *    (`--batch`; without it, a small demo batch with fresh numbers and random UIDs);
 * 4. reads the batch back from central (every card `made`, of that type);
 * 5. fetches the settlement for the period (default: this month so far, in the chain's time zone)
 *    and exports it as .xlsx through `GET /v1/reports/export` into `--out`;
 * 6. prints a short summary, and exits non-zero with a clear message on any API error.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CentralClient, Schemas } from 'cinecard/client';
import { ApiCallError, loginAsHq, ok, runMain, setting } from '../common/central.ts';

/** The card type this script keeps (a 10-use annual card, ¥35 per use settled to the cinema). */
const CARD_TYPE = { name: '电子年票·10次（HQ 自动化示例）', usesPerCard: 10, settlementPricePerUseFen: 3500, concessionValuePerUseFen: 3000, validityDays: 365 };

/** The card maker's hand-over: `cardNo,uid` per line (a header line and blank lines are skipped). */
function readBatchFile(path: string): { cardNo: string; uid: string }[] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^card/i.test(l))
    .map((l) => {
      const [cardNo, uid] = l.split(',').map((x) => x.trim());
      if (!cardNo || !uid) throw new Error(`${path}: a line is not "cardNo,uid": ${l}`);
      return { cardNo, uid: uid.toUpperCase() };
    });
}

/** A demo hand-over: 5 fresh card numbers, random 4-byte UIDs. */
function demoBatch(): { cardNo: string; uid: string }[] {
  const base = `77${String(Date.now()).slice(-8)}`;
  return Array.from({ length: 5 }, (_, i) => ({ cardNo: `${base}${i}`, uid: randomBytes(4).toString('hex').toUpperCase() }));
}

/** Today's date in the chain's time zone (the reports' days run on it). */
function today(timeZone = 'Asia/Shanghai'): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

async function ensureCardType(api: CentralClient): Promise<Schemas['CardType']> {
  const existing = (await ok('listing card types', api.GET('/v1/card-types'))).items.find((t) => t.name === CARD_TYPE.name);
  if (existing) return existing;
  return ok('creating the card type', api.POST('/v1/card-types', { body: CARD_TYPE }));
}

async function main(): Promise<void> {
  const api = await loginAsHq();

  const type = await ensureCardType(api);
  console.log(`card type: ${type.name} (${type.id}), ${type.usesPerCard} uses, ¥${(type.settlementPricePerUseFen / 100).toFixed(2)} per use`);

  const batchFile = setting('batch', 'CINECARD_BATCH_FILE');
  const cards = batchFile ? readBatchFile(batchFile) : demoBatch();
  const batch = await ok(`registering a batch of ${cards.length} cards`, api.POST('/v1/card-batches', { body: { cardTypeId: type.id, cards } }));
  console.log(`batch ${batch.id}: ${batch.count} cards registered, made at ${batch.madeAt}`);

  // Read it back: every card of the batch, as central now has it.
  const readBack = await Promise.all(cards.map((c) => ok(`reading card ${c.cardNo}`, api.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: c.cardNo } } }))));
  const wrong = readBack.filter((c) => c.batchId !== batch.id || c.state !== 'made' || c.cardTypeId !== type.id);
  if (wrong.length > 0) throw new Error(`central does not hold the batch as registered: ${wrong.map((c) => `${c.cardNo} ${c.state}`).join(', ')}`);
  console.log(`read back: ${readBack.map((c) => c.cardNo).join(', ')} — made, ${readBack[0]?.remainingUses} uses each`);

  // Settlement for the period, then the same report as an .xlsx file.
  const to = setting('to', 'CINECARD_TO') ?? today();
  const from = setting('from', 'CINECARD_FROM') ?? `${to.slice(0, 8)}01`;
  const settlement = await ok(`fetching the settlement ${from}…${to}`, api.GET('/v1/reports/settlement', { params: { query: { from, to } } }));
  const out = resolve(setting('out', 'CINECARD_OUT') ?? `settlement-${from}_${to}.xlsx`);
  const file = await api.GET('/v1/reports/export', {
    params: { query: { report: 'settlement', format: 'xlsx', from, to } },
    headers: { 'Accept-Language': 'zh-CN' },
    parseAs: 'arrayBuffer',
  });
  if (!file.response.ok || !file.data) throw new ApiCallError('exporting the settlement', file.response.status, file.error);
  writeFileSync(out, Buffer.from(file.data));

  const t = settlement.totals;
  const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;
  console.log(`settlement ${from}…${to}: ${settlement.rows.length} rows; ${t.redemptions} redemptions, ${t.usesRedeemed} uses → ${yuan(t.settlementFen)} owed to cinemas; ${t.cardsSold} cards sold (${yuan(t.salesValueFen)}); net ${yuan(t.netFen)}`);
  for (const r of settlement.rows) console.log(`  ${r.cinemaName ?? '—'} · ${r.cardTypeName ?? '—'}: ${r.usesRedeemed} uses, ${yuan(r.settlementFen)}`);
  console.log(`exported: ${out} (${file.data.byteLength} bytes)`);
  console.log(JSON.stringify({ ok: true, cardTypeId: type.id, batchId: batch.id, cards: cards.map((c) => c.cardNo), from, to, totals: t, file: out }));
}

runMain(main);
