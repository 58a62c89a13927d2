/**
 * The rebuild screen (按卡重建) on a till with no central (offline): each tapped card's record goes
 * into the card cache and a `rebuild` op with provenance into the outbox; a card tapped twice is
 * counted once; a card failing its checks is listed as refused, in plain words; only the roles
 * holding `cards.rebuild` may record.
 */
import assert from 'node:assert/strict';
import { makeCardImage } from '../test-support/redemption-harness.ts';
import { ScreenBench, shows, table, zh } from './screen-test-kit.ts';

const ID = 'cinecard.rebuild';

describe('management screens: rebuild from cards (fake host, in-process card, offline)', () => {
  let bench: ScreenBench;
  afterEach(async () => bench?.stop());

  it('each card tapped rebuilds the cache and queues a rebuild op with provenance; a second tap counts once; a tampered card is refused with the reason', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await bench.openMenu(ID);
    await bench.waitForText(ID, 'screen.rebuild.progress_offline', { seen: 0 });
    const first = String(await bench.tapNew({ record: { remainingUses: 7, seq: 5 } as never }));
    let view = await bench.waitForText(ID, 'screen.rebuild.rebuilt', { cardNo: first, uses: 7 });
    assert.ok(shows(view, zh('screen.rebuild.progress_offline', { seen: 1 })));
    assert.deepEqual(table(view, 'rebuild'), [{ cardNo: first, remaining: 7, result: zh('screen.rebuild.result_rebuilt') }]);

    const cached = await bench.plugin.store.db('cards').where({ card_no: first }).first();
    assert.equal(cached.remaining, 7);
    const [op, ...more] = await bench.plugin.store.pendingOps();
    assert.equal(more.length, 0);
    assert.equal(op!.kind, 'rebuild');
    assert.equal(op!.cardNo, first);
    assert.equal(op!.remainingAfter, 7);
    assert.equal(op!.operatorId, 'u-manager');
    const payload = op!.payload as { uid: string; card: Record<string, unknown>; record: Record<string, unknown>; cashier: string };
    assert.equal(payload.card['cardNo'], first);
    assert.equal(payload.card['uid'], payload.uid);
    assert.equal(payload.record['remainingUses'], 7);
    assert.equal(payload.record['seq'], op!.cardSeq);
    assert.equal(payload.cashier, 'u-manager');

    // The same card again: counted once, no second op.
    await bench.fx.remove();
    await bench.fx.reinsert();
    view = await bench.waitForText(ID, 'screen.rebuild.again', { cardNo: first });
    assert.ok(shows(view, zh('screen.rebuild.progress_offline', { seen: 1 })));
    assert.equal(await bench.plugin.store.pendingCount(), 1);

    const second = String(await bench.tapNew({ record: { remainingUses: 3 } }));
    view = await bench.waitForText(ID, 'screen.rebuild.rebuilt', { cardNo: second, uses: 3 });
    assert.ok(shows(view, zh('screen.rebuild.progress_offline', { seen: 2 })));

    // Tampered: both record copies fail their MAC — refused, the reason in plain words, nothing recorded.
    const img = await makeCardImage(900_000_001n);
    img.image[8 * 16 + 5]! ^= 1;
    img.image[12 * 16 + 5]! ^= 1;
    await bench.fx.insert(img);
    view = await bench.waitForText(ID, 'card.mac_invalid');
    assert.deepEqual(table(view, 'rebuild').map((r) => r['result']), [zh('screen.rebuild.result_rebuilt'), zh('screen.rebuild.result_rebuilt'), zh('card.mac_invalid')]);
    assert.ok(shows(view, zh('screen.rebuild.progress_offline', { seen: 2 })));
    assert.equal(await bench.plugin.store.pendingCount(), 2);
  });

  it('a card already up to date in this till is said so (and central is still told)', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await bench.openMenu(ID);
    const cardNo = String(await bench.tapNew({ record: { remainingUses: 4 } }));
    await bench.waitForText(ID, 'screen.rebuild.rebuilt', { cardNo, uses: 4 });
    bench.host.dismiss(ID);
    await bench.host.waitForNoView();
    await bench.fx.remove();
    await bench.openMenu(ID);
    await bench.fx.reinsert();
    const view = await bench.waitForText(ID, 'screen.rebuild.up_to_date', { cardNo, uses: 4 });
    assert.deepEqual(table(view, 'rebuild'), [{ cardNo, remaining: 4, result: zh('screen.rebuild.result_up_to_date') }]);
    assert.equal(await bench.plugin.store.pendingCount(), 2);
  });

  it('a card tapped the moment the screen is chosen is rebuilt by it, never taken by the redemption popup', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    const card = await makeCardImage(300_009_002n, { record: { remainingUses: 6 } });
    const cardNo = '300009002';
    bench.host.menu.get(ID)!.run();
    void bench.fx.insert(card); // in the same moment: before the screen could ask
    await bench.waitForText(ID, 'screen.rebuild.rebuilt', { cardNo, uses: 6 });
    assert.ok(!bench.host.events.some((e) => e.viewId.startsWith('cinecard.redeem.')), 'the popup never opened');
    assert.equal(await bench.plugin.store.pendingCount(), 1);
  });

  it('a salesperson may not open it', async () => {
    bench = await new ScreenBench().start({ as: 'salesperson' });
    const view = await bench.openMenu(ID);
    assert.equal(view.id, 'cinecard.forbidden');
  });
});
