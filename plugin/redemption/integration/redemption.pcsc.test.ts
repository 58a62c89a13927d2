/**
 * The redemption popup through the real stack: the plugin → PcscCardReader (pcsc-mini) → pcscd →
 * vpcd → the emulated card in the card lab. The lab is started and stopped here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { View } from '../../../adapters/host-ui.ts';
import type { CardFixture } from '../../../test-support/card-fixture.ts';
import { pcscFixture, startCardLab, type CardLab } from '../../../test-support/cardlab.ts';
import type { PluginHandle } from '../../activate.ts';
import { translate, type MessageKey } from '../../i18n/catalogue.ts';
import { texts, type FakeHost } from '../../test-support/fake-host.ts';
import { NOW_MS, makeCardImage, readImage, sampleSale, seedTerminalDb, startPlugin } from '../../test-support/redemption-harness.ts';

const zh = (key: MessageKey, params?: Record<string, string | number>) => translate('zh-CN', key, params);
const popupWith = (text: string) => (v: View) => v.id.startsWith('cinecard.redeem.') && texts(v).includes(text);

describe('redemption popup through pcscd + vpcd', function () {
  this.timeout(120_000);
  let lab: CardLab;
  let dir: string;
  let fx: CardFixture;
  let host: FakeHost;
  let plugin: PluginHandle;

  before(async () => {
    lab = await startCardLab();
  });
  after(async () => {
    await lab?.stop();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-redeem-pcsc-'));
    await seedTerminalDb(join(dir, 'terminal.sqlite'));
    fx = await pcscFixture(lab);
    ({ host, plugin } = await startPlugin(fx, join(dir, 'terminal.sqlite')));
    host.setSale(sampleSale);
  });
  afterEach(async () => {
    await plugin?.dispose();
    await fx?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tap → popup → confirm → card written, op recorded, tender applied → removal closes the popup', async () => {
    await fx.insert(await makeCardImage(660_000_001n));
    const offer = await host.waitForView(popupWith(zh('redeem.remaining', { remaining: 20 })));
    host.press(offer.id, 'confirm');
    await host.waitForView(popupWith(zh('redeem.tender_applied')));
    await plugin.settled();
    assert.equal((await readImage(await fx.snapshot())).record.remainingUses, 18);
    const ops = await plugin.store.opsOfCard('660000001');
    assert.equal(ops.length, 1);
    assert.equal(host.tenders[0]?.opId, ops[0]!.opId);
    await fx.remove();
    await host.waitForNoView();
  });

  it('a card refused locally (expired) says why and offers no deduction', async () => {
    await fx.insert(await makeCardImage(660_000_002n, { record: { expiry: NOW_MS / 1000 - 86_400 } }));
    await host.waitForView(popupWith(zh('card.expired', { date: '2026-11-24' })));
  });

  for (const applied of [false, true]) {
    it(`a write torn mid-way (APDU applied: ${applied}) is settled on the re-tap: exactly one deduction`, async () => {
      await fx.insert(await makeCardImage(applied ? 660_000_004n : 660_000_003n));
      const offer = await host.waitForView(popupWith(zh('redeem.remaining', { remaining: 20 })));
      // The write's APDUs: load key, authenticate, 3 block writes, read back. Tear the MAC block write.
      await fx.setFaults({ tearAt: { apduIndex: 4, applied } });
      host.press(offer.id, 'confirm', { uses: 1 });
      await host.waitForView(popupWith(zh('redeem.write_unconfirmed')));
      await plugin.settled();
      await fx.reinsert();
      const key = applied ? zh('redeem.recovered_landed', { uses: 1 }) : zh('redeem.recovered_not_landed');
      await host.waitForView(popupWith(key));
      await plugin.settled();
      const left = applied ? 19 : 20;
      assert.equal((await readImage(await fx.snapshot())).record.remainingUses, left);
      assert.equal((await plugin.store.opsOfCard(String(applied ? 660_000_004n : 660_000_003n))).length, 20 - left);
    });
  }
});
