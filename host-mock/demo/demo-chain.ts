/**
 * The demo chain, made once through central's API (the typed client, as HQ's tools would): an HQ
 * admin, two cinemas with one enrolled terminal each, two card types, a batch of made cards and
 * each cinema's redemption rules; the cards themselves are emulated MIFARE Classic cards
 * personalised with the DEMO keys and kept as files for the card panel. What was made is saved to
 * `<dataDir>/demo-chain.json`; a second start reads it back and makes nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessCardReader } from '../../adapters/emulator/in-process-reader.ts';
import { demoCardKeys } from '../../adapters/keys/demo-card-keys.ts';
import { createCentralClient, type CentralClient } from '../../central/client/index.ts';
import type { Role } from '../../plugin/auth/permissions.ts';
import { MifareClassicProfile } from '../../plugin/card/mifare-classic-profile.ts';
import type { RedemptionRule } from '../../plugin/redemption/redemption-rules.ts';
import { CardWallet, DemoCard } from '../server/card-panel.ts';
import type { Localized } from '../server/catalogue.ts';
import type { TillCashier } from '../server/till-session.ts';

// DEMO credentials, printed by `npm start`, for this local demo only.
export const DEMO_ADMIN = { username: 'admin', password: 'cinecard-demo' } as const;
export const DEMO_CHAIN_ID = 1;

export interface DemoStaff extends TillCashier {
  /** The CineCard user the till's cashier maps onto (host_operator mode). */
  readonly username: string;
  readonly roles: readonly Role[];
}

export interface DemoTerminal {
  readonly cinemaId: string;
  readonly cinemaCode: number;
  readonly cinemaName: Localized;
  readonly stationId: string;
  readonly terminalId: string;
  /** The terminal's secret from enrolment (kept in the demo's data folder only). */
  readonly secret: string;
  readonly staff: readonly DemoStaff[];
  readonly rules: readonly RedemptionRule[];
}

export interface DemoCardType {
  readonly code: number;
  readonly cardTypeId: string;
  readonly name: string;
  readonly uses: number;
  readonly pricePerUseFen: number;
}

export interface DemoChain {
  readonly version: 1;
  readonly terminals: readonly [DemoTerminal, DemoTerminal];
  readonly cardTypes: readonly DemoCardType[];
  readonly cards: readonly { cardNo: string; cardTypeCode: number; label: string }[];
}

const CINEMAS = [
  { code: 101, codeText: 'SH-101', name: { 'zh-CN': '星光影城（人民广场店）', en: 'Starlight Cinema (People’s Square)' }, station: 'A-01', staffBase: 1000 },
  { code: 102, codeText: 'SH-102', name: { 'zh-CN': '星光影城（陆家嘴店）', en: 'Starlight Cinema (Lujiazui)' }, station: 'B-01', staffBase: 2000 },
] as const;

const CARD_TYPES = [
  { code: 1, name: '电子年票·10次', uses: 10, priceFen: 3500, concessionFen: 3000, days: 365, count: 4, label: '年票卡' },
  { code: 2, name: '电子团体票·30次', uses: 30, priceFen: 3000, concessionFen: 3000, days: 180, count: 2, label: '团体票卡' },
] as const;

export const chainFile = (dataDir: string) => join(dataDir, 'demo-chain.json');

export function loadDemoChain(dataDir: string): DemoChain | undefined {
  const f = chainFile(dataDir);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as DemoChain) : undefined;
}

async function ok<T>(what: string, p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await p;
  if (!r.response.ok || r.data === undefined) throw new Error(`${what}: HTTP ${r.response.status} ${JSON.stringify(r.error)}`);
  return r.data;
}

/** Makes the demo chain (once); returns what exists. */
export async function ensureDemoChain(apiUrl: string, dataDir: string, wallet: CardWallet): Promise<DemoChain> {
  const existing = loadDemoChain(dataDir);
  if (existing) return existing;
  let token: string | undefined;
  // The typed client's paths carry /v1 themselves.
  const api: CentralClient = createCentralClient(apiUrl.replace(/\/v1\/?$/, ''), { token: () => token });
  token = (await ok('log in as the HQ admin', api.POST('/v1/auth/login', { body: DEMO_ADMIN }))).accessToken;

  const types: DemoCardType[] = [];
  for (const t of CARD_TYPES) {
    const made = await ok(`create card type ${t.name}`, api.POST('/v1/card-types', {
      body: { name: t.name, usesPerCard: t.uses, settlementPricePerUseFen: t.priceFen, concessionValuePerUseFen: t.concessionFen, validityDays: t.days },
    }));
    types.push({ code: t.code, cardTypeId: made.id, name: t.name, uses: t.uses, pricePerUseFen: t.priceFen });
  }

  const terminals: DemoTerminal[] = [];
  for (const c of CINEMAS) {
    const cinema = await ok(`create cinema ${c.codeText}`, api.POST('/v1/cinemas', { body: { code: c.codeText, name: c.name['zh-CN'] } }));
    const code = await ok('make an enrolment code', api.POST('/v1/cinemas/{cinemaId}/enrolment-codes', { params: { path: { cinemaId: cinema.id } } }));
    const enrolled = await ok('enrol the terminal', api.POST('/v1/terminals/enrol', { body: { code: code.code, name: `${c.codeText} ${c.station}` } }));
    const staff: DemoStaff[] = [
      { id: `op-${c.staffBase + 1}`, login: String(c.staffBase + 1), password: '1234', name: c.code === 101 ? '王小明' : '李华', username: `cashier${c.code}`, roles: ['salesperson', 'customer_query'] },
      { id: `op-${c.staffBase + 9}`, login: String(c.staffBase + 9), password: '9999', name: c.code === 101 ? '张经理' : '陈经理', username: `manager${c.code}`, roles: ['manager'] },
    ];
    for (const s of staff) {
      await ok(`create user ${s.username}`, api.POST('/v1/users', { body: { username: s.username, displayName: s.name, password: `${s.password}-demo-${s.username}`, roles: [...s.roles], cinemaId: cinema.id } }));
    }
    const rules: RedemptionRule[] = [];
    const ruleBodies = [
      { kind: 'ticket' as const, name: '普通场次每票1次', usesPerTicket: 1, priority: 10 },
      { kind: 'ticket' as const, name: 'IMAX每票2次', format: 'IMAX', usesPerTicket: 2, priority: 20 },
      { kind: 'concession' as const, name: '卖品每30元1次', valuePerUseFen: 3000, priority: 10 },
    ];
    for (const body of ruleBodies) {
      const r = await ok(`create rule ${body.name}`, api.POST('/v1/cinemas/{cinemaId}/redemption-rules', { params: { path: { cinemaId: cinema.id } }, body }));
      rules.push({ id: r.id, kind: r.kind, name: r.name, cardTypeId: r.cardTypeId ?? null, film: r.film ?? null, format: r.format ?? null, dayPart: r.dayPart ?? null, usesPerTicket: r.usesPerTicket ?? null, valuePerUseFen: r.valuePerUseFen ?? null, priority: r.priority });
    }
    terminals.push({ cinemaId: cinema.id, cinemaCode: c.code, cinemaName: c.name, stationId: c.station, terminalId: enrolled.terminalId, secret: enrolled.secret, staff, rules });
  }

  // The batch: personalise emulated cards (status "made"), then register them with central.
  const profile = new MifareClassicProfile(demoCardKeys());
  const reader = new InProcessCardReader();
  await reader.start();
  const now = Math.floor(Date.now() / 1000);
  const cards: { cardNo: string; cardTypeCode: number; label: string }[] = [];
  let serial = 0;
  try {
    for (const t of CARD_TYPES) {
      const type = types.find((x) => x.code === t.code)!;
      const expiry = now + 2 * 365 * 86_400;
      const batch: { cardNo: string; uid: string }[] = [];
      for (let i = 0; i < t.count; i++) {
        const cardNo = `88000${String(++serial).padStart(5, '0')}`;
        const card = new DemoCard({}, cardNo, `${t.label} ${serial}`);
        const session = reader.insert(card);
        await profile.personalise(
          session,
          { cardType: t.code, blocked: false, cardNumber: BigInt(cardNo), issuedAt: now, originalExpiry: expiry, initialUses: t.uses, chainId: DEMO_CHAIN_ID, issuingCinema: 0 },
          { remainingUses: t.uses, lifetimeUsesLoaded: t.uses, expiry, status: 'made', lastTxTime: now, lastCinema: 0, lastTerminal: 0, lastAmount: 0, lastTxKind: 'issue' },
        );
        reader.remove();
        wallet.add(card);
        batch.push({ cardNo, uid: Buffer.from(card.uid).toString('hex').toUpperCase() });
        cards.push({ cardNo, cardTypeCode: t.code, label: card.label });
      }
      await ok('register the card batch', api.POST('/v1/card-batches', { body: { cardTypeId: type.cardTypeId, uses: t.uses, expiresAt: new Date(expiry * 1000).toISOString(), cards: batch } }));
    }
  } finally {
    reader.dispose();
  }

  const chain: DemoChain = { version: 1, terminals: [terminals[0]!, terminals[1]!], cardTypes: types, cards };
  writeFileSync(chainFile(dataDir), JSON.stringify(chain, null, 2), { mode: 0o600 });
  return chain;
}
