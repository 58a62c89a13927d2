/**
 * The screens that talk to central, against a real central (SQLite) started by the harness: HQ
 * batch making registers the batch; a sale at a cinema terminal with sync reaches central through
 * the outbox; a card's history comes from central when online and from local data (labelled) when
 * the link is cut; a renewal made offline goes up once it heals.
 */
import assert from 'node:assert/strict';
import { createCentralClient, type Schemas } from '../../../central/client/index.ts';
import { TestCentral, ok, type Session } from '../../../central/test-support/harness.ts';
import { testDatabases } from '../../../central/test-support/databases.ts';
import { makeCardImage, readImage, TERMINAL } from '../../test-support/redemption-harness.ts';
import { CentralLink } from '../central-link.ts';
import { TcpGate } from '../../../test-support/tcp-gate.ts';
import { eventually } from '../../sync/integration/terminal-fixture.ts';
import { CardCacheToken } from '../../tokens.ts';
import { ScreenBench, field, shows, table, zh } from '../screen-test-kit.ts';

describe('management screens with central (real central on SQLite)', function () {
  this.timeout(60_000);
  let central: TestCentral;
  let cardType: Schemas['CardType'];
  let cinema: Schemas['Cinema'];
  let operator: Session;
  const benches: ScreenBench[] = [];
  /** The cards the HQ station made, as images to put on a cinema's reader. */
  const made: { uid: Uint8Array; image: Uint8Array }[] = [];
  /** Card 880000001 once sold and renewed at the cinema. */
  let sold1: { uid: Uint8Array; image: Uint8Array } | undefined;

  before(async () => {
    central = await TestCentral.start(testDatabases().find((d) => d.name === 'sqlite')!);
    cardType = ok(await central.admin.client.POST('/v1/card-types', {
      body: { name: '年票（成人）', usesPerCard: 12, settlementPricePerUseFen: 3500, concessionValuePerUseFen: 2000, validityDays: 365 },
    }));
    cinema = await central.createCinema('万达 CBD');
    operator = await central.loginAs('operator');
  });
  const atCentralCard = async (cardNo: string) => ok(await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo } } }));
  after(async () => {
    for (const b of benches) await b.stop();
    await central?.close();
  });

  async function bench(options: Parameters<ScreenBench['start']>[0]): Promise<ScreenBench> {
    const b = await new ScreenBench().start(options);
    benches.push(b);
    return b;
  }

  it('HQ station: make a batch — central’s card types, a progress view per blank card, personalised cards, the batch registered at central', async () => {
    const hq = await bench({ config: { mode: 'hq_station' }, as: 'operator' });
    hq.plugin.resolve(CentralLink).connect(operator.client);
    const form = await hq.openMenu('cinecard.hq.make');
    assert.equal(field(form, 'type')?.value, cardType.id);
    assert.equal(field(form, 'uses')?.value, 12, 'the type’s uses per card');
    assert.equal(field(form, 'expiry')?.value, '2027-11-25', 'the type’s validity from today');
    hq.host.press(form.id, 'confirm', { count: 2, first: '880000001' });
    await hq.waitForText(form.id, 'screen.make.tap_blank', { n: 1, count: 2, cardNo: '880000001' });
    await hq.fx.insert();
    const second = await hq.waitForText(form.id, 'screen.make.tap_blank', { n: 2, count: 2, cardNo: '880000002' });
    assert.deepEqual(second.children.find((n) => n.type === 'progress'), { type: 'progress', value: 1, max: 2, label: zh('screen.make.progress', { done: 1, count: 2 }) });
    made.push(await hq.fx.snapshot());
    await hq.fx.insert();
    const done = await hq.waitForText(form.id, 'screen.make.registered', { count: 2 });
    assert.ok(done.children.some((n) => n.type === 'banner' && n.text === zh('screen.make.done', { count: 2, first: '880000001', last: '880000002' })));
    made.push(await hq.fx.snapshot());

    for (const [i, img] of made.entries()) {
      const card = await readImage(img);
      assert.equal(card.record.status, 'made');
      assert.equal(card.record.remainingUses, 12);
      const registered = ok(await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: `88000000${i + 1}` } } }));
      assert.equal(registered.state, 'made');
      assert.equal(registered.uid, Buffer.from(img.uid).toString('hex').toUpperCase());
      assert.equal(registered.cardTypeId, cardType.id);
    }
  });

  it('cinema terminal with sync: a sale reaches central by sync; history from central, offline from local data; a change made offline goes up once the link is back', async () => {
    assert.equal(made.length, 2, 'needs the HQ batch');
    const enrolled = await central.enrolTerminal(cinema.id, 'Till 1');
    const gate = await TcpGate.start(Number(new URL(central.url).port));
    after(() => gate.close());
    const till = await bench({
      as: 'manager',
      identity: { terminalId: enrolled.terminalId, cinemaId: cinema.id },
      config: { terminal: { ...TERMINAL, terminalId: enrolled.terminalId, cinemaId: cinema.id }, central: { urls: [gate.origin], terminalSecret: enrolled.secret } },
    });
    const atCentral = async (cardNo: string) => ok(await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo } } }));

    await till.openMenu('cinecard.card.sell');
    await till.fx.insert(made[0]);
    const form = await till.waitForText('cinecard.card.sell', 'screen.expiry');
    till.host.press(form.id, 'confirm');
    await till.waitForText(form.id, 'screen.recorded_syncing');
    const seq = (await readImage(await till.fx.snapshot())).record.seq;
    await eventually(async () => (await atCentral('880000001')).appliedSeq === seq, 5000, 'the sale at central');
    const sold = await atCentral('880000001');
    assert.deepEqual([sold.state, sold.cinemaId], ['active', cinema.id]);
    await eventually(async () => (await till.plugin.store.pendingCount()) === 0, 5000, 'the outbox emptied');
    assert.equal(till.plugin.sync.status.offline, false);
    till.host.dismiss(form.id);
    await till.fx.remove();

    await till.openMenu('cinecard.card.history');
    await till.fx.reinsert();
    const online = await till.waitForText('cinecard.card.history', 'screen.history.from_central');
    assert.deepEqual(table(online, 'history').map((r) => [r['kind'], r['place'], r['remaining']]), [[zh('screen.history.kind.activate'), zh('screen.history.this_cinema'), 12]]);
    till.host.dismiss(online.id);
    await till.fx.remove();

    gate.cut(); // the link to central goes down
    await assert.rejects(till.plugin.sync.syncNow());
    assert.equal(till.plugin.sync.status.offline, true, 'the status says offline');
    await till.openMenu('cinecard.card.history');
    await till.fx.reinsert();
    const offline = await till.waitForText('cinecard.card.history', 'screen.history.from_local');
    assert.deepEqual(table(offline, 'history').map((r) => r['kind']), [zh('screen.history.kind.activate')]);
    till.host.dismiss(offline.id);
    await till.fx.remove();

    // Offline, a renewal is written to the card, recorded and queued.
    await till.openMenu('cinecard.card.renew');
    await till.fx.reinsert();
    const renew = await till.waitForText('cinecard.card.renew', 'screen.renew.current', { date: '2027-11-25' });
    till.host.press(renew.id, 'confirm', { expiry: '2028-01-31' });
    await till.waitForText(renew.id, 'screen.queued_offline');
    assert.deepEqual((await till.plugin.store.pendingOps()).map((o) => o.kind), ['renew']);
    sold1 = await till.fx.snapshot();

    // The plugin's sync screen says so; with the link back, "sync now" uploads the renewal and
    // central applies it at its seq.
    till.host.dismiss(renew.id);
    await till.fx.remove();
    const status = await till.openMenu('cinecard.sync');
    assert.ok(shows(status, zh('screen.sync.offline')) && shows(status, zh('screen.sync.pending', { count: 1 })), 'offline, one record waiting');
    gate.heal();
    till.host.press(status.id, 'sync_now');
    await till.waitForText(status.id, 'screen.sync.done');
    await till.waitForText(status.id, 'screen.sync.pending', { count: 0 });
    assert.ok(shows(await till.waitForText(status.id, 'screen.sync.online'), zh('screen.sync.online')));
    till.host.dismiss(status.id);
    const renewed = await atCentral('880000001');
    assert.equal(renewed.expiresAt, '2028-01-31T15:59:59.000Z');
    assert.equal(renewed.appliedSeq, (await readImage(sold1)).record.seq);
    assert.equal(await till.plugin.store.pendingCount(), 0);
    assert.equal(till.plugin.sync.status.offline, false);
  });

  it('HQ station: a top-up is written to the card and recorded at central; a recycled card changes type at central', async () => {
    assert.ok(sold1, 'needs the sold card');
    const hq = await bench({ config: { mode: 'hq_station' }, as: 'operator' });
    hq.plugin.resolve(CentralLink).connect(operator.client);

    await hq.openMenu('cinecard.hq.top_up');
    await hq.fx.insert(sold1);
    const form = await hq.waitForText('cinecard.hq.top_up', 'redeem.remaining', { remaining: 12 });
    hq.host.press(form.id, 'confirm', { uses: 0 });
    const again = await hq.host.waitForView((v) => v.id === form.id && field(v, 'uses')?.error === zh('screen.uses_invalid', { max: 0xffff - 12 }));
    hq.host.press(again.id, 'confirm', { uses: 8 });
    await hq.waitForText(form.id, 'screen.top_up.done', { cardNo: '880000001', uses: 8, remaining: 20 });
    await hq.waitForText(form.id, 'screen.sent_to_central');
    const card = await readImage(await hq.fx.snapshot());
    assert.deepEqual([card.record.remainingUses, card.record.lifetimeUsesLoaded, card.record.lastTxKind], [20, 20, 'top_up']);
    assert.deepEqual((await hq.plugin.store.pendingOps()).map((o) => [o.kind, o.uses]), [['top_up', 8]]);
    const history = ok(await central.admin.client.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo: '880000001' }, query: { scope: 'all' } } }));
    assert.ok(history.items.some((e) => e.kind === 'topup' && e.usesDelta === 8 && e.seq === card.record.seq && e.status === 'applied'));
    hq.host.dismiss(form.id);
    await hq.fx.remove();

    // 880000002 is sold and handed back (central), and its card says recycled.
    const other = ok(await central.admin.client.POST('/v1/card-types', {
      body: { name: '团体票', usesPerCard: 30, settlementPricePerUseFen: 3000, concessionValuePerUseFen: 2000 },
    }));
    const manager = await central.loginAs('manager', { cinemaId: cinema.id });
    ok(await manager.client.POST('/v1/cards/{cardNo}/activate', { params: { path: { cardNo: '880000002' } }, body: { cinemaId: cinema.id, seq: 2 } }));
    ok(await manager.client.POST('/v1/cards/{cardNo}/recycle', { params: { path: { cardNo: '880000002' } }, body: { note: '顾客退卡' } }));
    await hq.openMenu('cinecard.hq.change_type');
    await hq.fx.insert(await makeCardImage(880000002n, { static: { cardType: 1 }, record: { status: 'recycled' } }));
    const change = await hq.host.waitForView((v) => v.id === 'cinecard.hq.change_type' && field(v, 'type') !== undefined);
    hq.host.press(change.id, 'confirm', { type: other.id });
    await hq.waitForText(change.id, 'screen.change_type.done', { cardNo: '880000002', type: '团体票' });
    assert.equal(ok(await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: '880000002' } } })).cardTypeId, other.id);
  });

  it('cinema terminal online: today’s cards to recycle come from central (every till of the cinema)', async () => {
    const manager = await central.loginAs('manager', { cinemaId: cinema.id });
    const till = await bench({ as: 'manager', identity: { terminalId: TERMINAL.terminalId, cinemaId: cinema.id }, config: { terminal: { ...TERMINAL, cinemaId: cinema.id } } });
    till.plugin.resolve(CentralLink).connect(manager.client);
    const list = await till.openMenu('cinecard.card.recycle_list');
    assert.ok(list.children.some((n) => n.type === 'banner' && n.text === zh('screen.recycle.from_central')));
    assert.deepEqual(table(list, 'recycle').map((r) => [r['cardNo'], r['reason']]), [['880000002', zh('screen.recycle.reason.returned')]], 'handed back at this cinema (previous test)');
  });

  it('HQ station offline: the batch is made and kept; the next time the screen opens with central reachable it is registered', async () => {
    const hq = await bench({ config: { mode: 'hq_station' }, as: 'operator' });
    const link = hq.plugin.resolve(CentralLink);
    link.connect(operator.client); // online once: central's card types are kept locally
    hq.host.dismiss((await hq.openMenu('cinecard.hq.make')).id);
    await hq.host.waitForNoView();
    link.connect(createCentralClient('http://127.0.0.1:9/v1')); // then central cannot be reached
    const form = await hq.openMenu('cinecard.hq.make');
    assert.ok(form.children.some((n) => n.type === 'banner' && n.text === zh('screen.make.offline')), 'says it works from the local card types');
    hq.host.press(form.id, 'confirm', { type: cardType.id, count: 1, first: '990000001' });
    await hq.waitForText(form.id, 'screen.make.tap_blank', { n: 1, count: 1, cardNo: '990000001' });
    await hq.fx.insert();
    const done = await hq.waitForText(form.id, 'screen.make.register_later');
    hq.host.dismiss(done.id);
    await hq.host.waitForNoView();
    assert.equal((await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: '990000001' } } })).response.status, 404);

    link.connect(operator.client);
    const again = await hq.openMenu('cinecard.hq.make');
    assert.ok(again.children.some((n) => n.type === 'banner' && n.text === zh('screen.make.registered', { count: 1 })));
    assert.equal(ok(await central.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: '990000001' } } })).state, 'made');
    assert.equal(await hq.plugin.store.getMeta('hq.unregistered_batches'), '[]');
  });

  it('a card blacklisted at one cinema’s till is refused at another cinema’s till within seconds, without anyone reloading', async () => {
    assert.ok(sold1, 'needs the card sold at the first cinema');
    const otherCinema = await central.createCinema('万达 望京');
    const tillAt = async (cinemaId: string) => {
      const enrolled = await central.enrolTerminal(cinemaId);
      return bench({
        as: 'manager',
        identity: { terminalId: enrolled.terminalId, cinemaId },
        config: { terminal: { ...TERMINAL, terminalId: enrolled.terminalId, cinemaId }, central: { urls: [central.url], terminalSecret: enrolled.secret } },
      });
    };
    const [a, b] = [await tillAt(cinema.id), await tillAt(otherCinema.id)];
    await eventually(() => a.plugin.sync.status.lastSuccessAt !== null && b.plugin.sync.status.lastSuccessAt !== null, 5000, 'both tills synced once');

    const form = await a.openMenu('cinecard.blacklist');
    a.host.press(form.id, 'add', { cardNo: '880000001', reason: '顾客挂失' });
    await a.waitForText(form.id, 'screen.blacklist.added', { cardNo: '880000001', central: zh('screen.recorded_syncing') });
    const listedAt = Date.now();
    await eventually(async () => (await atCentralCard('880000001')).blacklistedAt !== null, 5000, 'listed at central');
    // Till B learns it from central's poke and pull: no reload, no button.
    await eventually(() => b.plugin.resolve(CardCacheToken).isBlacklisted('880000001'), 5000, 'the blacklist at the other till');
    const took = Date.now() - listedAt;
    assert.ok(took < 5000, `reached the other cinema in ${took} ms`);

    await b.fx.insert(sold1);
    const popup = await b.host.waitForView((v) => shows(v, zh('card.blacklisted')), 5000, 'the refusal at the other till');
    assert.ok(popup, 'refused as blacklisted');
  });

  it('a till HQ revoked: its sync screen says central refuses this till, not that central cannot be reached', async () => {
    const enrolled = await central.enrolTerminal(cinema.id, 'Till revoked');
    const till = await bench({
      as: 'manager',
      identity: { terminalId: enrolled.terminalId, cinemaId: cinema.id },
      config: { terminal: { ...TERMINAL, terminalId: enrolled.terminalId, cinemaId: cinema.id }, central: { urls: [central.url], terminalSecret: enrolled.secret } },
    });
    await till.plugin.sync.syncNow();
    ok(await central.admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: enrolled.terminalId } } }));
    const status = await till.openMenu('cinecard.sync');
    till.host.press(status.id, 'sync_now');
    const refused = await till.waitForText(status.id, 'screen.sync.failed');
    assert.ok(shows(refused, zh('screen.sync.refused')), 'the refusal, in plain words');
    assert.ok(!shows(refused, zh('screen.sync.offline')), 'not "cannot be reached"');
    assert.equal(till.plugin.sync.status.problem, 'refused');
  });
});
