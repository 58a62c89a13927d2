/**
 * Shared set-up for the redemption tests and bench: cards made off the reader (so the plugin never
 * sees a blank card being personalised), a terminal database seeded with users, rules and card
 * types, and the plugin activated against a {@link FakeHost} and a card fixture's reader.
 */
import { InProcessCardReader } from '../../adapters/emulator/in-process-reader.ts';
import { MifareClassic1k } from '../../adapters/emulator/mifare-classic.ts';
import type { CardKeys } from '../../adapters/keys/card-keys.ts';
import { demoCardKeys } from '../../adapters/keys/demo-card-keys.ts';
import { activate, type PluginHandle } from '../activate.ts';
import type { Role } from '../auth/permissions.ts';
import { LocalUsers } from '../auth/user-session.ts';
import type { CardRecordInput, CardStaticInput } from '../card/card-data.ts';
import { isReadable, type CardReadable } from '../card/card-outcome.ts';
import { MifareClassicProfile } from '../card/mifare-classic-profile.ts';
import type { PluginConfigInput } from '../config.ts';
import type { RedemptionRule } from '../redemption/redemption-rules.ts';
import { CardCache } from '../store/card-cache.ts';
import { RedemptionRuleStore } from '../store/redemption-rule-store.ts';
import { TerminalStore } from '../store/terminal-store.ts';
import type { CardFixture } from '../../test-support/card-fixture.ts';
import { FakeHost } from './fake-host.ts';

export const TERMINAL = { terminalId: 'T-0001', cinemaId: 'C-0302', cinemaCode: 302, terminalNumber: 4, chainId: 12 } as const;
/** 2026-11-25 14:00 in Shanghai. */
export const NOW_MS = Date.UTC(2026, 10, 25, 6, 0, 0);
const NOW = NOW_MS / 1000;
const YEAR = 365 * 86_400;
export const CARD_TYPE = { code: 7, cardTypeId: '0190c0de-0000-7000-8000-000000000007', name: '年票（成人）', pricePerUseFen: 3500 };
export const CASHIER = { id: 'op-1', name: '张三' };

export function cardStatic(cardNumber: bigint, over: Partial<CardStaticInput> = {}): CardStaticInput {
  return {
    cardType: CARD_TYPE.code, blocked: false, cardNumber, issuedAt: NOW - 30 * 86_400, originalExpiry: NOW + YEAR,
    initialUses: 20, chainId: TERMINAL.chainId, issuingCinema: 301, ...over,
  };
}

export function activeRecord(over: Partial<CardRecordInput> = {}): CardRecordInput {
  return {
    remainingUses: 20, lifetimeUsesLoaded: 20, expiry: NOW + YEAR, status: 'active',
    lastTxTime: NOW - 86_400, lastCinema: 301, lastTerminal: 1, lastAmount: 0, lastTxKind: 'activate', ...over,
  };
}

/** A card personalised on a reader of its own: its UID and memory, ready to put on the plugin's reader. */
export async function makeCardImage(
  cardNumber: bigint,
  over: { static?: Partial<CardStaticInput>; record?: Partial<CardRecordInput>; keys?: CardKeys } = {},
): Promise<{ uid: Uint8Array; image: Uint8Array }> {
  const reader = new InProcessCardReader();
  await reader.start();
  try {
    const card = new MifareClassic1k();
    const session = reader.insert(card);
    await new MifareClassicProfile(over.keys ?? demoCardKeys()).personalise(session, cardStatic(cardNumber, over.static), activeRecord(over.record));
    return { uid: Uint8Array.from(card.uid), image: card.image() };
  } finally {
    reader.dispose();
  }
}

/** Reads a card image with the demo keys, off the plugin's reader. */
export async function readImage(img: { uid: Uint8Array; image: Uint8Array }): Promise<CardReadable> {
  const reader = new InProcessCardReader();
  await reader.start();
  try {
    const o = await new MifareClassicProfile(demoCardKeys()).read(reader.insert(new MifareClassic1k(img)));
    if (!isReadable(o)) throw new Error(`card did not read: ${o.kind}`);
    return o;
  } finally {
    reader.dispose();
  }
}

export const ticketRule: RedemptionRule = {
  id: 'rule-ticket', kind: 'ticket', name: '普通场', cardTypeId: null, film: null, format: null, dayPart: null, usesPerTicket: 1, valuePerUseFen: null, priority: 0,
};
export const imaxRule: RedemptionRule = { ...ticketRule, id: 'rule-imax', name: 'IMAX', format: 'IMAX', usesPerTicket: 2, priority: 10 };
export const concessionRule: RedemptionRule = {
  id: 'rule-conc', kind: 'concession', name: '卖品', cardTypeId: null, film: null, format: null, dayPart: null, usesPerTicket: null, valuePerUseFen: 2000, priority: 0,
};

export interface SeedUser {
  readonly userId: string;
  readonly username: string;
  readonly roles: readonly Role[];
  readonly hostOperatorId?: string;
  readonly password?: string;
}

export interface SeedOptions {
  readonly users?: readonly SeedUser[];
  readonly rules?: readonly RedemptionRule[];
  readonly blacklist?: readonly string[];
}

/** Seeds a terminal database before the plugin opens it. */
export async function seedTerminalDb(dbFile: string, seed: SeedOptions = {}): Promise<void> {
  const store = await TerminalStore.open({ filename: dbFile, now: () => NOW_MS });
  try {
    await store.setIdentity({ terminalId: TERMINAL.terminalId, cinemaId: TERMINAL.cinemaId });
    const users = new LocalUsers(store.db, () => NOW_MS);
    for (const u of seed.users ?? [{ userId: 'U-1', username: 'zhangsan', roles: ['salesperson'], hostOperatorId: CASHIER.id }]) {
      await users.put({ userId: u.userId, username: u.username, displayName: u.username, roles: u.roles, ...(u.hostOperatorId && { hostOperatorId: u.hostOperatorId }), ...(u.password && { password: u.password }) });
    }
    await new RedemptionRuleStore(store.db).put(TERMINAL.cinemaId, 1, seed.rules ?? [ticketRule, imaxRule, concessionRule]);
    const cards = new CardCache(store.db);
    await cards.putCardType(CARD_TYPE);
    for (const cardNo of seed.blacklist ?? []) await cards.blacklist(cardNo, 'lost', new Date(NOW_MS).toISOString());
  } finally {
    await store.close();
  }
}

export function pluginConfig(dbFile: string, over: Partial<PluginConfigInput> = {}): PluginConfigInput {
  return { dbFile, terminal: { ...TERMINAL }, ...over };
}

/** Activates the plugin on the fixture's reader with a fake host (a cashier logged in by default). */
export async function startPlugin(fx: CardFixture, dbFile: string, options: { host?: FakeHost; config?: Partial<PluginConfigInput> } = {}): Promise<{ host: FakeHost; plugin: PluginHandle }> {
  const host = options.host ?? new FakeHost({ operator: CASHIER, nowMs: NOW_MS });
  const plugin = await activate(
    { cardReader: fx.reader, cardKeys: demoCardKeys(), ui: host.ui, session: host.session, sale: host.sale, clock: host.clock, logger: host.logger },
    pluginConfig(dbFile, options.config),
  );
  return { host, plugin };
}

export const sampleSale = {
  saleId: 'S-1001',
  tickets: [
    { lineId: 'L1', film: '流浪地球3', format: '2D', showtime: '2026-11-25T19:30:00+08:00', priceFen: 4500 },
    { lineId: 'L2', film: '流浪地球3', format: '2D', showtime: '2026-11-25T19:30:00+08:00', priceFen: 4500 },
  ],
  concessions: [{ lineId: 'L3', sku: 'POP-L', name: '大桶爆米花', quantity: 1, unitPriceFen: 3000 }],
  dueFen: 12000,
};
