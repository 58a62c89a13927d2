import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessCardReader } from '../../adapters/emulator/in-process-reader.ts';
import { MifareClassic1k } from '../../adapters/emulator/mifare-classic.ts';
import type { View } from '../../adapters/host-ui.ts';
import { SoftwareCardKeys } from '../../adapters/keys/software-card-keys.ts';
import { inProcessFixture, type CardFixture } from '../../test-support/card-fixture.ts';
import type { PluginHandle } from '../activate.ts';
import { translate, type MessageKey } from '../i18n/catalogue.ts';
import { CardCache } from '../store/card-cache.ts';
import { FakeHost, nodes, texts } from '../test-support/fake-host.ts';
import {
  CARD_TYPE, CASHIER, NOW_MS, TERMINAL, makeCardImage, readImage, sampleSale, seedTerminalDb, startPlugin, type SeedOptions,
} from '../test-support/redemption-harness.ts';

const zh = (key: MessageKey, params?: Record<string, string | number>) => translate('zh-CN', key, params);
const popup = (v: View) => v.id.startsWith('cinecard.redeem.');
const hasText = (text: string) => (v: View) => popup(v) && texts(v).includes(text);
const button = (v: View, id: string) => nodes(v).find((n) => n.type === 'button' && n.id === id);
const field = (v: View, id: string) => nodes(v).find((n) => n.type === 'field' && n.id === id);

describe('redemption popup (fake host, in-process card)', () => {
  let dir: string;
  let fx: CardFixture;
  let host: FakeHost;
  let plugin: PluginHandle;
  let next = 100_000_001n;

  async function start(seed: SeedOptions = {}, options: Parameters<typeof startPlugin>[2] = {}) {
    await seedTerminalDb(join(dir, 'terminal.sqlite'), seed);
    ({ host, plugin } = await startPlugin(fx, join(dir, 'terminal.sqlite'), options));
  }

  /** Puts a new card (made off the reader) on the plugin's reader; resolves with its popup. */
  async function tap(over: Parameters<typeof makeCardImage>[1] = {}): Promise<{ cardNo: bigint; view: View }> {
    const cardNo = next++;
    await fx.insert(await makeCardImage(cardNo, over));
    const view = await host.waitForView((v) => popup(v) && texts(v).includes(zh('redeem.card_no', { cardNo: String(cardNo) })) || popup(v));
    await plugin.settled();
    return { cardNo, view: host.openViews.find(popup) ?? view };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-redeem-'));
    fx = await inProcessFixture();
  });
  afterEach(async () => {
    await plugin?.dispose();
    await fx.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('happy path: popup pre-filled from the sale, confirm writes the card, records the op, applies the tender, closes on removal', async () => {
    await start();
    host.setSale(sampleSale);
    const { cardNo, view } = await tap();
    const shown = texts(view);
    assert.ok(shown.includes(zh('redeem.card_no', { cardNo: String(cardNo) })));
    assert.ok(shown.includes(zh('redeem.card_type', { type: CARD_TYPE.name })));
    assert.ok(shown.includes(zh('redeem.remaining', { remaining: 20 })));
    assert.ok(shown.includes(zh('redeem.expiry', { date: '2027-11-25' })));
    assert.ok(shown.includes(zh('redeem.status', { status: zh('status.active') })));
    assert.equal((field(view, 'uses') as { value: number }).value, 2, 'two 2D tickets at one use each');
    assert.equal((field(view, 'consumption') as { value: string }).value, 'ticket');

    host.press(view.id, 'confirm');
    const done = await host.waitForView(hasText(zh('redeem.tender_applied')));
    assert.ok(texts(done).includes(zh('redeem.done', { uses: 2, remaining: 18 })));
    assert.ok(texts(done).includes(zh('redeem.remaining', { remaining: 18 })));
    const kinds = host.events.filter((e) => e.viewId === view.id).map((e) => e.kind);
    assert.deepEqual(kinds.slice(0, 2), ['open', 'update']);

    const card = await readImage(await fx.snapshot());
    assert.equal(card.record.remainingUses, 18);
    assert.equal(card.record.seq, 2);
    assert.equal(card.record.lastCinema, TERMINAL.cinemaCode);
    assert.equal(card.record.lastTerminal, TERMINAL.terminalNumber);
    assert.equal(card.record.lastTxKind, 'redeem');

    const ops = await plugin.store.opsOfCard(String(cardNo));
    assert.equal(ops.length, 1);
    const op = ops[0]!;
    assert.equal(op.kind, 'redeem');
    assert.equal(op.uses, 2);
    assert.equal(op.cardSeq, 2);
    assert.equal(op.remainingAfter, 18);
    assert.equal(op.consumption, 'ticket');
    assert.equal(op.operatorId, 'U-1');
    assert.equal(op.terminalId, TERMINAL.terminalId);
    assert.equal(await plugin.store.pendingCount(), 1, 'queued in the outbox');
    assert.equal((await plugin.store.db('card_journal').count<{ n: number }[]>('* as n'))[0]!.n, 0, 'journal cleared');
    const cached = await new CardCache(plugin.store.db).card(String(cardNo));
    assert.equal(cached?.remaining, 18);
    assert.equal(cached?.recycledReason, null);

    assert.deepEqual(host.tenders, [{ saleId: 'S-1001', cardNo: String(cardNo), uses: 2, consumption: 'ticket', lineIds: ['L1', 'L2'], amountFen: 9000, opId: op.opId }]);

    await fx.remove();
    await host.waitForNoView();
  });

  it('the cashier edits the deduction and the consumption type; a bad entry is refused in plain words', async () => {
    await start();
    host.setSale(sampleSale);
    const { cardNo, view } = await tap();
    host.press(view.id, 'confirm', { uses: 0 });
    const refused = await host.waitForView((v) => popup(v) && (field(v, 'uses') as { error?: string } | undefined)?.error !== undefined);
    assert.equal((field(refused, 'uses') as { error: string }).error, zh('redeem.uses_invalid', { max: 20 }));
    assert.equal((await plugin.store.opsOfCard(String(cardNo))).length, 0);
    host.press(view.id, 'confirm', { uses: 3, consumption: 'concession' });
    await host.waitForView(hasText(zh('redeem.done', { uses: 3, remaining: 17 })));
    await plugin.settled();
    const [op] = await plugin.store.opsOfCard(String(cardNo));
    assert.equal(op?.consumption, 'concession');
    assert.equal(host.tenders[0]?.amountFen, 3000, 'concessions: uses × value per use, at most the lines');
  });

  it('the sale changes under an open popup: the deduction is pre-filled again', async () => {
    await start();
    const { view } = await tap();
    assert.ok(texts(view).includes(zh('redeem.no_sale')));
    host.setSale({ ...sampleSale, tickets: [{ ...sampleSale.tickets[0]!, format: 'IMAX' }], concessions: [] });
    const refreshed = await host.waitForView((v) => v.id === view.id && (field(v, 'uses') as { value: number }).value === 2);
    assert.ok(!texts(refreshed).includes(zh('redeem.no_sale')));
  });

  it('cancel: nothing written, and no popup again for this presence; a re-tap shows it again', async () => {
    await start();
    const { cardNo, view } = await tap();
    host.press(view.id, 'cancel');
    await host.waitForNoView();
    await plugin.settled();
    assert.equal(host.openViews.length, 0);
    assert.equal(host.events.filter((e) => e.kind === 'open').length, 1);
    assert.equal((await plugin.store.opsOfCard(String(cardNo))).length, 0);
    assert.equal((await readImage(await fx.snapshot())).record.remainingUses, 20);
    await fx.remove();
    await fx.reinsert();
    await host.waitForView(popup);
  });

  it('taking the last use marks the card for recycling (op, cache and the cashier told)', async () => {
    await start();
    const { cardNo, view } = await tap({ record: { remainingUses: 2 } });
    host.press(view.id, 'confirm', { uses: 2 });
    await host.waitForView(hasText(zh('redeem.done_last')));
    await plugin.settled();
    const [op] = await plugin.store.opsOfCard(String(cardNo));
    assert.equal(op?.remainingAfter, 0);
    assert.equal(op?.payload?.recycle, 'exhausted', 'the op says the card goes on the recycling list');
    const cached = await new CardCache(plugin.store.db).card(String(cardNo));
    assert.equal(cached?.recycledReason, 'exhausted');
    const list = await new CardCache(plugin.store.db).awaitingRecycling(new Date(NOW_MS - 86_400_000).toISOString());
    assert.deepEqual(list.map((c) => c.cardNo), [String(cardNo)]);
    assert.ok(texts(host.openViews.find(popup)!).includes(zh('redeem.tender_none')), 'no sale: said so');
  });

  const refusals: { name: string; over: Parameters<typeof makeCardImage>[1]; key: MessageKey; seed?: SeedOptions; params?: (cardNo: bigint) => Record<string, string> }[] = [
    { name: 'expired', over: { record: { expiry: NOW_MS / 1000 - 86_400 } }, key: 'card.expired', params: () => ({ date: '2026-11-24' }) },
    { name: 'exhausted', over: { record: { remainingUses: 0 } }, key: 'card.exhausted' },
    { name: 'not activated', over: { record: { status: 'made', lastTxKind: 'issue' } }, key: 'card.not_activated' },
    { name: 'recycled', over: { record: { status: 'recycled' } }, key: 'card.recycled' },
    { name: 'blocked flag', over: { static: { blocked: true } }, key: 'card.blocked' },
    { name: 'another chain (not ours)', over: { static: { chainId: 99 } }, key: 'card.not_ours' },
    { name: 'other keys (not ours)', over: { keys: new SoftwareCardKeys({ current: 1, versions: new Map([[1, { sector: randomBytes(16), mac: randomBytes(16) }]]) }) }, key: 'card.not_ours' },
  ];
  for (const r of refusals) {
    it(`refuses a card: ${r.name}`, async () => {
      await start(r.seed);
      const { cardNo, view } = await tap(r.over);
      assert.ok(texts(view).includes(zh(r.key, r.params?.(cardNo))), `${texts(view).join(' | ')}`);
      assert.equal(button(view, 'confirm'), undefined);
      await fx.remove();
      await host.waitForNoView();
    });
  }

  it('refuses a blacklisted card', async () => {
    await start({ blacklist: [String(next)] });
    const { view } = await tap();
    assert.ok(texts(view).includes(zh('card.blacklisted')));
    assert.equal(button(view, 'confirm'), undefined);
  });

  it('blank, unreadable and tampered cards: plain words, never a crash', async () => {
    await start();
    await fx.insert();
    let view = await host.waitForView(hasText(zh('card.blank')));
    await fx.insert({ image: randomBytes(1024) });
    view = await host.waitForView((v) => popup(v) && (texts(v).includes(zh('card.unreadable')) || texts(v).includes(zh('card.not_ours'))));
    assert.ok(view);
    const img = await makeCardImage(next++);
    img.image[8 * 16 + 5]! ^= 1; // a bit of record copy A
    img.image[12 * 16 + 5]! ^= 1; // and of copy B
    await fx.insert(img);
    await host.waitForView(hasText(zh('card.mac_invalid')));
  });

  it('a card that does not answer: the reader problem in plain words', async function () {
    this.timeout(10_000);
    await start();
    const card = new MifareClassic1k(await makeCardImage(next++));
    card.setFaults({ mute: true });
    (fx.reader as InProcessCardReader).insert(card);
    const view = await host.waitForView(hasText(zh('reader.card_mute')), 5000);
    assert.equal(button(view, 'confirm'), undefined);
  });

  it('a torn card (one valid copy) is usable and says so', async () => {
    await start();
    const img = await makeCardImage(next++);
    img.image[12 * 16 + 5]! ^= 1; // copy B invalid
    await fx.insert(img);
    const view = await host.waitForView(hasText(zh('card.torn')));
    assert.ok(button(view, 'confirm'));
  });

  it('no CineCard user, or a role without redemption: no confirm', async () => {
    await start({ users: [{ userId: 'U-9', username: 'query', roles: ['customer_query'], hostOperatorId: 'op-9' }] });
    let { view } = await tap();
    assert.ok(texts(view).includes(zh('redeem.no_user')));
    assert.equal((button(view, 'confirm') as { disabled?: boolean }).disabled, true);
    host.setOperator({ id: 'op-9', name: '查询员' });
    await host.waitUntil(() => (plugin.users.current ? true : undefined), 2000, 'the operator mapped');
    ({ view } = await tap());
    assert.ok(texts(view).includes(zh('redeem.no_permission')));
    assert.throws(() => host.press(view.id, 'confirm'), /disabled/);
  });

  it('speaks the session locale (en)', async () => {
    await start({}, { host: new FakeHost({ operator: CASHIER, nowMs: NOW_MS, locale: 'en' }) });
    const { view } = await tap();
    assert.equal(view.title, translate('en', 'redeem.title'));
    assert.ok(texts(view).includes(translate('en', 'redeem.remaining', { remaining: 20 })));
  });

  for (const applied of [false, true]) {
    it(`tearing at every APDU of the redemption write (torn APDU ${applied ? 'applied' : 'not applied'}): the re-tap resolves it, exactly one deduction`, async function () {
      this.timeout(120_000);
      await start();
      host.setSale(sampleSale);
      let remaining = 20;
      let ops = 0;
      let seenLanded = false, seenNotLanded = false;
      const { cardNo, view: first } = await tap();
      let view = first;
      for (let k = 0; ; k++) {
        await fx.setFaults({ tearAt: { apduIndex: k, applied } });
        host.press(view.id, 'confirm', { uses: 1 });
        const doneText = zh('redeem.done', { uses: 1, remaining: remaining - 1 });
        const after = await host.waitForView((v) => v.id === view.id && (texts(v).includes(zh('redeem.write_unconfirmed')) || texts(v).includes(zh('redeem.tender_applied')) && texts(v).includes(doneText)));
        await plugin.settled();
        if (texts(after).includes(doneText)) {
          remaining -= 1;
          ops += 1;
          assert.ok(k > 5, `the write has more than ${k} APDUs`);
          await fx.setFaults({});
          break;
        }
        // Torn: the card left mid-write. The cashier puts it back.
        await fx.reinsert();
        view = await host.waitForView((v) => popup(v) && v.id !== after.id && button(v, 'confirm') !== undefined);
        await plugin.settled();
        const shown = texts(view);
        if (shown.includes(zh('redeem.recovered_landed', { uses: 1 }))) {
          seenLanded = true;
          remaining -= 1;
          ops += 1;
        } else {
          assert.ok(shown.includes(zh('redeem.recovered_not_landed')), `tear at ${k}: ${shown.join(' | ')}`);
          seenNotLanded = true;
        }
        assert.ok(shown.includes(zh('redeem.remaining', { remaining })), `tear at ${k}: the popup shows the card's true balance`);
        assert.equal((await plugin.store.opsOfCard(String(cardNo))).length, ops, `tear at ${k}: one op per deduction`);
        assert.equal((await readImage(await fx.snapshot())).record.remainingUses, remaining, `tear at ${k}`);
      }
      assert.ok(seenNotLanded);
      if (applied) assert.ok(seenLanded, 'a tear after the MAC block landed is recovered as landed');
      const card = await readImage(await fx.snapshot());
      assert.equal(card.record.remainingUses, remaining);
      assert.equal(20 - remaining, ops, 'every use taken from the card has exactly one op');
      assert.equal((await plugin.store.opsOfCard(String(cardNo))).length, ops);
      assert.equal(host.tenders.length, ops, 'one tender per op');
      assert.equal(new Set(host.tenders.map((t) => t.opId)).size, ops);
      assert.equal((await plugin.store.db('card_journal').count<{ n: number }[]>('* as n'))[0]!.n, 0);
    });
  }
});
