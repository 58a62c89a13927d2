/**
 * A NovaPOS till with CineCard, end to end against a running central:
 *
 *   npx tsx examples/vendor-adapter/main.ts [--central http://127.0.0.1:8480] [--cinema SH-101]
 *       [--enrolment-code CODE] [--user admin --password …] [--dir /tmp/novapos]
 *
 * 1. HQ (played through central's API, `hq-side.ts`): an enrolment code for the cinema, and one made card.
 * 2. The till enrols with the code (`POST /v1/terminals/enrol`) and keeps its terminal id and secret.
 * 3. The vendor's part: activate CineCard with the NovaPOS adapters (`adapter.ts`), the emulated
 *    card reader, the software DEMO keys, a terminal database in the data folder, and the terminal
 *    configuration `examples/config/terminal.json` filled in with what enrolment returned.
 * 4. A cashier, through NovaPOS's own API as a UI test would: signs in; sells the made card from
 *    the CineCard menu; rings up two tickets; taps the card; the popup is pre-filled with 2 uses;
 *    confirms; the card is written and CineCard pays the sale.
 * 5. Sync uploads the op, and central's card history must show the redemption: exit 0, else 1.
 */
import 'reflect-metadata'; // CineCard uses tsyringe: first import of the host's entry point
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InProcessCardReader, demoCardKeys, type Logger } from 'cinecard/adapters';
import { createCentralClient } from 'cinecard/client';
import { activate, parseConfig, type PluginHandle } from 'cinecard/plugin';
import { centralUrl, loginAsHq, ok, runMain, setting } from '../common/central.ts';
import { CINECARD_TENDER, NovaHostSale, NovaHostSession, NovaHostUi } from './adapter.ts';
import { enrolmentCodeFor, exampleCardType, makeCard } from './hq-side.ts';
import { NovaPos, type NovaPanel } from './pos-sdk.ts';

const terminalConfigFile = fileURLToPath(new URL('../config/terminal.json', import.meta.url));

/** NovaPOS's staff, and the CineCard user each maps onto (`userMode: host_operator`). */
const STAFF = [{ staffNo: '0815', displayName: '周晓雨', pin: '2468', cinecardUser: 'nova0815', roles: ['salesperson', 'customer_query'] as const }];

const say = (line: string) => console.log(`[novapos] ${line}`);

/** Waits until `check` returns something (the till reacts asynchronously, as a real one does). */
async function until<T>(pos: NovaPos, what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; on the display: ${pos.display.panels.map((p) => `[${p.key}] ${p.text().replace(/\n/g, ' | ')}`).join(' ; ') || 'nothing'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const hasAction = (panel: NovaPanel | undefined, key: string) => panel?.components().some((c) => c.kind === 'action' && c.key === key && c.enabled);

async function main(): Promise<void> {
  const baseUrl = centralUrl();
  const dir = setting('dir', 'NOVAPOS_DATA_DIR') ?? mkdtempSync(join(tmpdir(), 'novapos-'));

  // 1. HQ's part.
  const hq = await loginAsHq(baseUrl);
  const code = setting('enrolment-code', 'CINECARD_ENROLMENT_CODE') ?? (await enrolmentCodeFor(hq, setting('cinema', 'CINECARD_CINEMA_CODE', 'SH-101')!));
  const type = await exampleCardType(hq);
  const { card, cardNo } = await makeCard(hq, type);
  say(`HQ made card ${cardNo} (${type.name})`);

  // 2. Enrolment: what an installer does once per till. Keep the secret like a password.
  const enrolled = await ok('enrolling the till', createCentralClient(baseUrl).POST('/v1/terminals/enrol', { body: { code, name: 'NovaPOS example till' } }));
  say(`enrolled as terminal ${enrolled.terminalId}`);

  // 3. The terminal configuration: the example file, with this till's identity and central filled in.
  const file = JSON.parse(readFileSync(terminalConfigFile, 'utf8')) as Record<string, any>;
  const config = parseConfig({
    ...file,
    dbFile: join(dir, 'cinecard-terminal.sqlite'),
    terminal: { ...file['terminal'], terminalId: enrolled.terminalId, cinemaId: enrolled.cinemaId },
    central: { ...file['central'], urls: [baseUrl], terminalSecret: enrolled.secret },
  });

  const pos = new NovaPos({ workstationId: 'NOVA-01', staff: STAFF, downloadsDir: join(dir, 'downloads') });
  pos.session.setLanguage('en-US');
  const reader = new InProcessCardReader({ name: 'NovaPOS counter reader' });
  const sale = new NovaHostSale(pos);
  const tender = sale.registerTender();
  const logger: Logger | undefined = process.env['NOVAPOS_VERBOSE'] ? (await import('pino')).pino({ level: 'debug' }) : undefined;
  const plugin: PluginHandle = await activate(
    { cardReader: reader, cardKeys: demoCardKeys(), ui: new NovaHostUi(pos), session: new NovaHostSession(pos), sale, ...(logger && { logger }) },
    config,
  );
  try {
    // What sync does not bring: the till's staff mapped onto CineCard users, and the card types by their code.
    for (const s of STAFF) await plugin.users.put({ userId: `${enrolled.terminalId}:${s.cinecardUser}`, username: s.cinecardUser, displayName: s.displayName, roles: [...s.roles], hostOperatorId: s.staffNo });
    await plugin.cardTypes.put({ code: type.code, cardTypeId: type.id, name: type.name, pricePerUseFen: type.pricePerUseFen });
    await plugin.sync.syncNow(); // the cinema's redemption rules and the blacklist arrive by sync
    say(`CineCard ${plugin.apiVersion} active; menu: ${pos.menu.list().map((m) => m.key).join(', ')}`);

    // 4. The cashier.
    if (!pos.session.signIn('0815', '2468')) throw new Error('the cashier could not sign in');
    say(`cashier ${pos.session.cashier?.displayName} signed in`);

    // Sell the made card at the counter: CineCard menu → tap → confirm. The cashier need not wait:
    // a menu entry chosen during CineCard's match of the sign-in waits for it, and the sell screen
    // takes the reader from the moment it is chosen, so the card may go down at once.
    pos.menu.select('cinecard.card.sell');
    reader.insert(card);
    const sell = await until(pos, 'the sell screen to show the card', () => { const p = pos.display.panel('cinecard.card.sell'); return hasAction(p, 'confirm') && p; });
    sell.press('confirm');
    const sold = await until(pos, 'the card to be sold', () => { const p = pos.display.panel('cinecard.card.sell'); return p?.components().some((c) => c.kind === 'notice' && c.level === 'ok') && p; });
    say(`sold: ${sold.text().split('\n')[0]}`);
    reader.remove();
    if (hasAction(sold, 'close')) sold.press('close');

    // Two tickets for tonight's show.
    // NovaPOS keeps showtimes in the cinema's local time with its offset, as CineCard wants them.
    const startsAt = `${new Date(Date.now() + (8 + 3) * 3600_000).toISOString().slice(0, 19)}+08:00`; // in 3 h, Asia/Shanghai
    const show = { film: '流浪地球3', screenFormat: '2D', startsAt, ticketClass: 'adult' };
    pos.sales.addLine({ sku: 'ADM-2D', description: `${show.film} 2D`, kind: 'admission', quantity: 2, unitPriceCents: 4500, admission: show });
    say(`sale ${pos.sales.current?.saleNo}: 2 tickets, due ¥${(pos.sales.current!.balanceDueCents / 100).toFixed(2)}`);

    // The card is tapped: CineCard's popup opens, pre-filled from the sale.
    reader.insert(card);
    const popup = await until(pos, 'the redemption popup', () => pos.display.panels.find((p) => p.key.startsWith('cinecard.redeem.') && hasAction(p, 'confirm')));
    const uses = popup.value('uses');
    say(`popup: ${popup.text().replace(/\n/g, ' | ')}`);
    say(`pre-filled: ${popup.value('consumption')} × ${uses}`);
    if (uses !== 2) throw new Error(`the popup proposed ${String(uses)} uses for 2 tickets, expected 2`);
    popup.press('confirm');
    const paid = await until(pos, 'CineCard to pay the sale', () => pos.sales.current?.payments.find((p) => p.tenderCode === CINECARD_TENDER));
    say(`card written; payment ${paid.reference}: ¥${(paid.amountCents / 100).toFixed(2)}, due now ¥${(pos.sales.current!.balanceDueCents / 100).toFixed(2)}`);
    say(`popup: ${popup.text().replace(/\n/g, ' | ')}`);
    reader.remove(); // the popup closes when the card leaves
    await until(pos, 'the popup to close', () => popup.closed);
    pos.sales.finish();

    // 5. Sync, then ask central.
    await plugin.settled();
    // CineCard uploads by itself after each op (and retries while central is away); the till never
    // waits for it. Here we do: sync now — the redemption counts as pending until central has it.
    await plugin.sync.syncNow();
    if (plugin.sync.status.pendingOps !== 0) throw new Error(`${plugin.sync.status.pendingOps} ops still pending after sync (${plugin.sync.status.lastError ?? 'no sync error'})`);
    const history = await ok('reading the card history', hq.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo } } }));
    const redemption = history.items.find((e) => e.kind === 'redeem' && e.opId === paid.reference);
    if (!redemption) throw new Error(`central's history of card ${cardNo} has no redemption ${paid.reference}`);
    say(`central recorded: card ${cardNo} ${redemption.kind} ${redemption.usesDelta} (${redemption.consumptionType}), remaining ${redemption.remainingAfter}`);
    console.log(JSON.stringify({ ok: true, cardNo, opId: redemption.opId, uses: -redemption.usesDelta, remaining: redemption.remainingAfter, terminalId: enrolled.terminalId }));
  } finally {
    await plugin.dispose(); // also disposes the reader it was given
    tender.dispose();
  }
}

runMain(main);
