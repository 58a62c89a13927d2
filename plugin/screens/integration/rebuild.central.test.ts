/**
 * The rebuild screen at an HQ station (no sync: an operator's login), against a real central on
 * SQLite that lost everything: each tap goes to `POST /v1/rebuild/cards`, the progress line counts
 * against what central knows (0 at first, then the cards recreated), a placeholder type is flagged,
 * and a tap made while central is unreachable is kept and sent before the next one.
 */
import assert from 'node:assert/strict';
import { TestCentral, ok } from '../../../central/test-support/harness.ts';
import { testDatabases } from '../../../central/test-support/databases.ts';
import { makeCardImage } from '../../test-support/redemption-harness.ts';
import { CentralLink } from '../central-link.ts';
import { ScreenBench, shows, table, zh } from '../screen-test-kit.ts';

describe('rebuild screen at an HQ station (real central on SQLite)', function () {
  this.timeout(60_000);
  let central: TestCentral;
  let hq: ScreenBench;

  before(async () => {
    central = await TestCentral.start(testDatabases().find((d) => d.name === 'sqlite')!);
  });
  after(async () => {
    await hq?.stop();
    await central?.close();
  });

  it('each tap rebuilds the card at central through the API; progress counts against what central knows; offline taps are sent later', async () => {
    const operator = await central.loginAs('operator');
    hq = await new ScreenBench().start({ config: { mode: 'hq_station' }, as: 'operator' });
    const link = hq.plugin.resolve(CentralLink);
    link.connect(operator.client);
    const ID = 'cinecard.rebuild';
    await hq.openMenu(ID);
    await hq.waitForText(ID, 'screen.rebuild.progress_none_known', { seen: 0 });

    await hq.fx.insert(await makeCardImage(772_000_001n, { record: { remainingUses: 6 } }));
    let view = await hq.waitForText(ID, 'screen.rebuild.progress', { seen: 1, known: 1 });
    assert.ok(shows(view, zh('screen.rebuild.rebuilt', { cardNo: '772000001', uses: 6 })));
    assert.ok(shows(view, zh('screen.rebuild.placeholders', { count: 1 })), 'the lost card type must be set up at HQ');
    const first = ok(await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: '772000001' } } }));
    assert.deepEqual([first.remainingUses, first.state], [6, 'active']);
    assert.ok(first.rebuiltAt);
    const audit = ok(await central.admin.client.GET('/v1/audit-log', { params: { query: { action: 'card.rebuild', limit: 10 } } })).items;
    assert.equal(audit[0]?.actorUserId, operator.user.id);
    await hq.fx.remove();

    // Central unreachable: the tap is recorded here and kept for central.
    link.connect(undefined);
    await hq.fx.insert(await makeCardImage(772_000_002n, { record: { remainingUses: 3 } }));
    view = await hq.waitForText(ID, 'screen.rebuild.progress_offline', { seen: 2 });
    assert.ok(shows(view, zh('screen.queued_offline')));
    await hq.fx.remove();
    const missing = await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: '772000002' } } });
    assert.equal(missing.response.status, 404);

    // Back online: the kept tap goes first, then the new one.
    link.connect(operator.client);
    await hq.fx.insert(await makeCardImage(772_000_003n, { record: { remainingUses: 9 } }));
    view = await hq.waitForText(ID, 'screen.rebuild.progress', { seen: 3, known: 3 });
    assert.deepEqual(table(view, 'rebuild').map((r) => [r['cardNo'], r['remaining']]), [['772000003', 9], ['772000002', 3], ['772000001', 6]]);
    for (const [cardNo, uses] of [['772000002', 3], ['772000003', 9]] as const) {
      assert.equal(ok(await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo } } })).remainingUses, uses);
    }
  });
});
