import assert from 'node:assert/strict';
import type { View } from '../../adapters/host-ui.ts';
import { roles, type Role } from '../auth/permissions.ts';
import { translate } from '../i18n/catalogue.ts';
import { readImage, NOW_MS, sampleSale } from '../test-support/redemption-harness.ts';
import { ScreenBench, field, shows, table, zh } from './screen-test-kit.ts';

/** DESIGN §5: who may open each screen (HQ admin: everything; `anyone`: logged in or not). */
const WHO_MAY: Record<string, readonly Role[] | 'anyone'> = {
  'cinecard.card.sell': ['admin', 'manager', 'salesperson'],
  'cinecard.card.renew': ['admin', 'manager', 'salesperson'],
  'cinecard.blacklist': ['admin', 'manager'],
  'cinecard.card.recycle_list': ['admin', 'manager'],
  'cinecard.card.reissue': ['admin', 'manager'],
  'cinecard.card.history': ['admin', 'manager', 'customer_query'],
  'cinecard.admin.users': ['admin', 'manager'],
  'cinecard.admin.rules': ['admin', 'manager'],
  'cinecard.sync': 'anyone',
  'cinecard.stats': ['admin', 'manager', 'local_statistician'],
  'cinecard.rebuild': ['admin', 'operator', 'manager'],
};
const HQ_WHO_MAY: Record<string, readonly Role[] | 'anyone'> = {
  'cinecard.hq.make': ['admin', 'operator'],
  'cinecard.hq.top_up': ['admin', 'operator'],
  'cinecard.hq.change_type': ['admin', 'operator'],
  'cinecard.rebuild': ['admin', 'operator', 'manager'],
};

/** End of 2027-11-25 in Shanghai: a year after NOW, as the expiry field defaults to. */
const A_YEAR_ON = Date.UTC(2027, 10, 25, 15, 59, 59) / 1000;

describe('management screens: who may use them (DESIGN §5, fake host)', () => {
  for (const [mode, table_] of [['terminal', WHO_MAY], ['hq_station', HQ_WHO_MAY]] as const) {
    it(`${mode}: every screen opens for the roles that may use it and is refused to every other role and to nobody`, async () => {
      const bench = await new ScreenBench().start({ config: { mode } });
      try {
        assert.deepEqual([...bench.host.menu.keys()].sort(), Object.keys(table_).sort(), 'exactly these screens in this mode');
        for (const role of [...roles, undefined]) {
          await bench.as(role);
          for (const [id, may] of Object.entries(table_)) {
            const view = await bench.openMenu(id);
            const allowed = may === 'anyone' || (role !== undefined && may.includes(role));
            assert.equal(view.id, allowed ? id : 'cinecard.forbidden', `${id} for ${role ?? 'nobody'}`);
            if (!allowed) assert.ok(shows(view, zh(role ? 'screen.forbidden' : 'redeem.no_user')));
            bench.host.dismiss(view.id);
            await bench.host.waitForNoView();
          }
        }
      } finally {
        await bench.stop();
      }
    });
  }

  /** Every role (and nobody) that may not use screen `id`. */
  const forbidden = (id: string): (Role | undefined)[] => {
    const may = { ...WHO_MAY, ...HQ_WHO_MAY }[id]!;
    return may === 'anyone' ? [] : [...roles.filter((r) => !may.includes(r)), undefined];
  };
  const refusedTo = (role: Role | undefined) => (v: View) => v.id === 'cinecard.forbidden' && shows(v, zh(role ? 'screen.forbidden' : 'redeem.no_user'));

  const actions: { id: string; role: Role; card: Parameters<ScreenBench['tapNew']>[0]; mode?: 'hq_station' }[] = [
    { id: 'cinecard.card.sell', role: 'salesperson', card: { record: { status: 'made' } } },
    { id: 'cinecard.card.renew', role: 'salesperson', card: {} },
    { id: 'cinecard.card.reissue', role: 'manager', card: { record: { status: 'recycled', remainingUses: 0 } } },
    { id: 'cinecard.hq.top_up', role: 'operator', card: {}, mode: 'hq_station' },
  ];
  for (const a of actions) {
    it(`${a.id}: the confirm is refused to every role that may not use it (the user at the till changed meanwhile); the card stays as it was`, async () => {
      const bench = await new ScreenBench().start({ as: a.role, ...(a.mode && { config: { mode: a.mode } }) });
      try {
        for (const role of forbidden(a.id)) {
          await bench.as(a.role);
          await bench.openMenu(a.id);
          await bench.tapNew(a.card);
          const form = await bench.host.waitForView((v) => v.id === a.id && v.children.some((n) => n.type === 'stack' && n.children.some((b) => b.type === 'button' && b.id === 'confirm')));
          const before = await readImage(await bench.fx.snapshot());
          await bench.as(role);
          bench.host.press(form.id, 'confirm');
          bench.host.dismiss((await bench.host.waitForView(refusedTo(role), 5000, `refused to ${role ?? 'nobody'}`)).id);
          await bench.host.waitForNoView();
          assert.equal((await readImage(await bench.fx.snapshot())).record.seq, before.record.seq, `${role}: nothing written`);
          assert.equal(await bench.plugin.store.pendingCount(), 0, `${role}: no op recorded`);
          await bench.fx.remove();
        }
      } finally {
        await bench.stop();
      }
    });
  }

  const listActions: { id: string; action: string; values: Record<string, string | number>; unchanged: (b: ScreenBench) => Promise<unknown> }[] = [
    { id: 'cinecard.blacklist', action: 'add', values: { cardNo: '300000999', reason: '挂失' }, unchanged: (b) => b.plugin.store.db('blacklist').select('*') },
    { id: 'cinecard.blacklist', action: 'remove', values: { cardNo: '300000998' }, unchanged: (b) => b.plugin.store.db('blacklist').select('*') },
    { id: 'cinecard.admin.users', action: 'save', values: { username: 'wangwu', role: 'manager' }, unchanged: (b) => b.plugin.store.db('users').select('username', 'roles', 'disabled_at') },
    { id: 'cinecard.admin.users', action: 'disable', values: { username: 'salesperson' }, unchanged: (b) => b.plugin.store.db('users').select('username', 'roles', 'disabled_at') },
    { id: 'cinecard.admin.rules', action: 'save', values: { name: '特惠', uses: 1 }, unchanged: (b) => b.plugin.store.db('redemption_rules').select('*') },
    { id: 'cinecard.admin.rules', action: 'delete', values: { name: '普通场' }, unchanged: (b) => b.plugin.store.db('redemption_rules').select('*') },
  ];
  for (const a of listActions) {
    it(`${a.id} ${a.action}: refused to every role that may not use it (the manager was replaced meanwhile); nothing changes`, async () => {
      const bench = await new ScreenBench().start({ seed: { blacklist: ['300000998'] } });
      try {
        const before = await a.unchanged(bench);
        for (const role of forbidden(a.id)) {
          await bench.as('manager');
          const view = await bench.openMenu(a.id);
          await bench.as(role);
          bench.host.press(view.id, a.action, a.values);
          bench.host.dismiss((await bench.host.waitForView(refusedTo(role), 5000, `refused to ${role ?? 'nobody'}`)).id);
          await bench.host.waitForNoView();
          assert.deepEqual(await a.unchanged(bench), before, `${role}: nothing changed`);
          assert.equal(await bench.plugin.store.pendingCount(), 0);
        }
      } finally {
        await bench.stop();
      }
    });
  }

  it('cinecard.hq.make: starting a batch is refused when the operator was replaced by a statistician meanwhile; no card is made', async () => {
    const bench = await new ScreenBench().start({ config: { mode: 'hq_station' }, as: 'operator' });
    try {
      const form = await bench.openMenu('cinecard.hq.make');
      await bench.as('statistician');
      bench.host.press(form.id, 'confirm', { count: 1, first: '990000100' });
      await bench.host.waitForView((v) => v.id === 'cinecard.forbidden');
      assert.ok(!bench.host.events.some((e) => e.view && shows(e.view, zh('screen.make.tap_blank', { n: 1, count: 1, cardNo: '990000100' }))), 'never asked for a blank card');
    } finally {
      await bench.stop();
    }
  });

  it('every string follows the session language: English', async () => {
    const bench = await new ScreenBench().start({ config: { locale: 'en' }, as: 'salesperson' });
    try {
      const view = await bench.openMenu('cinecard.card.sell');
      assert.equal(view.title, translate('en', 'screen.sell.title'));
      assert.ok(shows(view, translate('en', 'screen.tap_card')));
      await bench.tapNew({ record: { status: 'made' } });
      const form = await bench.host.waitForView((v) => v.id === view.id && field(v, 'expiry') !== undefined);
      assert.ok(shows(form, translate('en', 'redeem.status', { status: translate('en', 'status.made') })));
    } finally {
      await bench.stop();
    }
  });
});

describe('management screens: card flows (fake host, in-process card, offline)', () => {
  let bench: ScreenBench;
  afterEach(async () => bench?.stop());

  it('sell: tap a made card → its data and a default expiry one year on → confirm writes it active, records the op and queues it (offline); no redemption popup meanwhile', async () => {
    bench = await new ScreenBench().start({ as: 'salesperson' });
    const prompt = await bench.openMenu('cinecard.card.sell');
    assert.ok(shows(prompt, zh('screen.tap_card')));
    const cardNo = await bench.tapNew({ record: { status: 'made' } });
    const form = await bench.waitForText('cinecard.card.sell', 'redeem.card_no', { cardNo: String(cardNo) });
    assert.ok(shows(form, zh('redeem.status', { status: zh('status.made') })));
    assert.equal(field(form, 'expiry')?.value, '2027-11-25');
    bench.host.press(form.id, 'confirm');
    const done = await bench.waitForText('cinecard.card.sell', 'screen.sell.done', { cardNo: String(cardNo), date: '2027-11-25', remaining: 20 });
    assert.ok(shows(done, zh('screen.queued_offline')));
    const card = await readImage(await bench.fx.snapshot());
    assert.equal(card.record.status, 'active');
    assert.equal(card.record.expiry, A_YEAR_ON);
    assert.equal(card.record.lastTxKind, 'activate');
    const [op, ...more] = await bench.plugin.store.pendingOps();
    assert.equal(more.length, 0);
    assert.equal(op?.kind, 'activate');
    assert.equal(op?.cardNo, String(cardNo));
    assert.equal(op?.cardSeq, card.record.seq);
    assert.equal(op?.operatorId, 'u-salesperson');
    assert.ok(!bench.host.events.some((e) => e.viewId.startsWith('cinecard.redeem.')), 'the popup stayed away while the screen had the reader');
  });

  it('sell: an active card is refused in plain words; after the screen the reader goes back to the redemption popup', async () => {
    bench = await new ScreenBench().start({ as: 'salesperson' });
    await bench.openMenu('cinecard.card.sell');
    await bench.tapNew();
    const refused = await bench.waitForText('cinecard.card.sell', 'screen.sell.not_made', { status: zh('status.active') });
    bench.host.press(refused.id, 'close');
    await bench.fx.remove();
    await bench.tapNew();
    await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.'));
  });

  it('renew: the new expiry is checked, then written to the card with a renew op', async () => {
    bench = await new ScreenBench().start({ as: 'salesperson' });
    await bench.openMenu('cinecard.card.renew');
    await bench.tapNew({ record: { expiry: NOW_MS / 1000 + 86_400 } });
    const form = await bench.waitForText('cinecard.card.renew', 'screen.renew.current', { date: '2026-11-26' });
    bench.host.press(form.id, 'confirm', { expiry: '2020-01-01' });
    const again = await bench.host.waitForView((v) => v.id === form.id && field(v, 'expiry')?.error === zh('screen.expiry_past'));
    bench.host.press(again.id, 'confirm', { expiry: '2028-06-30' });
    await bench.waitForText(form.id, 'screen.renew.done', { cardNo: '300000001', date: '2028-06-30' });
    const card = await readImage(await bench.fx.snapshot());
    assert.equal(card.record.expiry, Date.UTC(2028, 5, 30, 15, 59, 59) / 1000);
    assert.equal(card.record.remainingUses, 20, 'uses unchanged');
    assert.deepEqual((await bench.plugin.store.pendingOps()).map((o) => [o.kind, o.payload?.['expiresAt']]), [['renew', '2028-06-30T15:59:59.000Z']]);
  });

  it('blacklist: a manager lists a card with a reason → the popup refuses it at once → unlisting lets it be used again; both ops queued', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    let view = await bench.openMenu('cinecard.blacklist');
    bench.host.press(view.id, 'add', { cardNo: '300000001', reason: '' });
    view = await bench.waitForText(view.id, 'screen.blacklist.reason_required');
    bench.host.press(view.id, 'add', { cardNo: '12', reason: '挂失' });
    view = await bench.waitForText(view.id, 'screen.card_no_invalid');
    bench.host.press(view.id, 'add', { cardNo: '300000001', reason: '顾客挂失' });
    view = await bench.waitForText(view.id, 'screen.blacklist.added', { cardNo: '300000001', central: zh('screen.queued_offline') });
    assert.deepEqual(table(view, 'blacklist').map((r) => [r['cardNo'], r['reason']]), [['300000001', '顾客挂失']]);
    bench.host.press(view.id, 'close');
    await bench.host.waitForNoView();

    await bench.as('salesperson');
    await bench.tapNew();
    const popup = await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.') && shows(v, zh('card.blacklisted')));
    bench.host.press(popup.id, 'close');
    await bench.fx.remove();

    await bench.as('manager');
    view = await bench.openMenu('cinecard.blacklist');
    bench.host.press(view.id, 'remove', { cardNo: '300000001' });
    view = await bench.waitForText(view.id, 'screen.blacklist.removed', { cardNo: '300000001', central: zh('screen.queued_offline') });
    assert.deepEqual(table(view, 'blacklist'), []);
    await bench.fx.reinsert();
    const offer = await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.') && field(v, 'uses') !== undefined);
    assert.ok(!shows(offer, zh('card.blacklisted')), 'usable again');
    assert.deepEqual((await bench.plugin.store.pendingOps()).map((o) => [o.kind, o.cardNo, o.operatorId]), [['blacklist', '300000001', 'u-manager'], ['unblacklist', '300000001', 'u-manager']]);
  });

  it('recycling: the last use taken puts the card on today’s list; re-issue reloads it (same number), takes it off the list, and its history restarts there', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    bench.host.setSale(sampleSale);
    const cardNo = String(await bench.tapNew({ record: { remainingUses: 1 } }));
    const popup = await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.') && field(v, 'uses') !== undefined);
    bench.host.press(popup.id, 'confirm', { uses: 1 });
    await bench.host.waitForView((v) => v.id === popup.id && shows(v, zh('redeem.done_last')));
    await bench.fx.remove();
    await bench.host.waitForNoView();

    let list = await bench.openMenu('cinecard.card.recycle_list');
    assert.ok(shows(list, zh('screen.recycle.today', { date: '2026-11-25', count: 1 })));
    assert.deepEqual(table(list, 'recycle').map((r) => [r['cardNo'], r['reason']]), [[cardNo, zh('screen.recycle.reason.exhausted')]]);
    bench.host.press(list.id, 'reissue');
    await bench.waitForText('cinecard.card.reissue', 'screen.tap_card');
    await bench.fx.reinsert();
    const form = await bench.waitForText('cinecard.card.reissue', 'screen.reissue.history_note');
    assert.equal(field(form, 'uses')?.value, 20, 'the uses the card was made with');
    bench.host.press(form.id, 'confirm', { uses: 15 });
    await bench.waitForText(form.id, 'screen.reissue.done', { cardNo, uses: 15, date: '2027-11-25' });
    const card = await readImage(await bench.fx.snapshot());
    assert.deepEqual([String(card.static.cardNumber), card.record.status, card.record.remainingUses, card.record.lastTxKind], [cardNo, 'active', 15, 'issue']);
    bench.host.dismiss(form.id);
    await bench.fx.remove();

    list = await bench.openMenu('cinecard.card.recycle_list');
    assert.deepEqual(table(list, 'recycle'), [], 'off the list once re-issued');
    bench.host.dismiss(list.id);

    await bench.openMenu('cinecard.card.history');
    await bench.fx.reinsert();
    const history = await bench.waitForText('cinecard.card.history', 'screen.history.from_local');
    assert.deepEqual(table(history, 'history').map((r) => [r['kind'], r['uses'], r['remaining']]), [[zh('screen.history.kind.reissue'), 15, 15]], 'the redemption before the re-issue is not the new holder’s');
    assert.deepEqual((await bench.plugin.store.pendingOps()).map((o) => o.kind), ['redeem', 'reissue']);
  });

  for (const applied of [false, true]) {
    it(`sell torn at every APDU of the write (torn APDU ${applied ? 'applied' : 'not applied'}): the next tap settles it, the card is sold exactly once`, async function () {
      this.timeout(60_000);
      bench = await new ScreenBench().start({ as: 'salesperson' });
      let cardNo = '';
      let settledLanded = false;
      for (let k = 0; ; k++) {
        await bench.openMenu('cinecard.card.sell');
        if (k === 0) cardNo = String(await bench.tapNew({ record: { status: 'made' } }));
        else await bench.fx.reinsert();
        const view = await bench.host.waitForView((v) => v.id === 'cinecard.card.sell' && (field(v, 'expiry') !== undefined || shows(v, zh('screen.sell.not_made', { status: zh('status.active') }))));
        if (field(view, 'expiry') === undefined) {
          assert.ok(shows(view, zh('screen.earlier_write_landed')), `tear at ${k - 1}: the landed write is recorded on the re-tap`);
          settledLanded = true;
          break;
        }
        if (k > 0) assert.ok(shows(view, zh('screen.earlier_write_dropped')), `tear at ${k - 1}: the write that did not land is dropped`);
        await bench.fx.setFaults({ tearAt: { apduIndex: k, applied } });
        bench.host.press(view.id, 'confirm');
        const after = await bench.host.waitForView((v) => v.id === view.id && ['screen.sell.done', 'screen.write_unconfirmed', 'screen.write_failed'].some((key) => shows(v, zh(key as 'screen.write_failed', { cardNo, date: '2027-11-25', remaining: 20 }))));
        bench.host.dismiss(after.id);
        await bench.host.waitForNoView();
        if (shows(after, zh('screen.sell.done', { cardNo, date: '2027-11-25', remaining: 20 }))) {
          assert.ok(k > 4, `the write has more than ${k} APDUs`);
          break;
        }
        assert.ok(shows(after, zh('screen.write_unconfirmed')), `tear at ${k}: the cashier is told to put the card back`);
        await bench.fx.remove();
      }
      if (applied) assert.ok(settledLanded, 'a tear after the MAC landed is settled as sold');
      const card = await readImage(await bench.fx.snapshot());
      assert.equal(card.record.status, 'active');
      assert.deepEqual((await bench.plugin.store.opsOfCard(cardNo)).map((o) => [o.kind, o.cardSeq]), [['activate', card.record.seq]], 'sold exactly once');
      assert.equal((await bench.plugin.store.db('card_journal').count<{ n: number }[]>('* as n'))[0]!.n, 0);
    });
  }

  it('re-issue refuses a card that still has uses', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await bench.openMenu('cinecard.card.reissue');
    await bench.tapNew({ record: { remainingUses: 3 } });
    await bench.waitForText('cinecard.card.reissue', 'screen.reissue.not_recycled', { status: zh('status.active'), remaining: 3 });
  });

  it('history offline: this terminal’s ops since the sale, labelled as local and possibly incomplete', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await bench.openMenu('cinecard.card.sell');
    const cardNo = String(await bench.tapNew({ record: { status: 'made' } }));
    const form = await bench.waitForText('cinecard.card.sell', 'screen.expiry');
    bench.host.press(form.id, 'confirm');
    await bench.waitForText(form.id, 'screen.sell.done', { cardNo, date: '2027-11-25', remaining: 20 });
    bench.host.dismiss(form.id);
    await bench.fx.remove();
    bench.host.setSale(sampleSale);
    await bench.fx.reinsert();
    const popup = await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.') && field(v, 'uses') !== undefined);
    bench.host.press(popup.id, 'confirm');
    await bench.host.waitForView((v) => v.id === popup.id && shows(v, zh('redeem.done', { uses: 2, remaining: 18 })));
    await bench.fx.remove();
    await bench.host.waitForNoView();

    await bench.openMenu('cinecard.card.history');
    await bench.fx.reinsert();
    const view = await bench.waitForText('cinecard.card.history', 'screen.history.from_local');
    assert.ok(!shows(view, zh('screen.history.from_central')));
    assert.deepEqual(table(view, 'history').map((r) => [r['kind'], r['consumption'], r['uses'], r['remaining'], r['place']]), [
      [zh('screen.history.kind.activate'), '', 0, 20, zh('screen.history.this_cinema')],
      [zh('screen.history.kind.redeem'), zh('redeem.consumption.ticket'), 2, 18, zh('screen.history.this_cinema')],
    ]);
  });
});

describe('management screens: users, rules, login (fake host)', () => {
  let bench: ScreenBench;
  afterEach(async () => bench?.stop());

  it('users: a manager creates a salesperson mapped from a host operator, changes the role, disables and enables them', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    let view = await bench.openMenu('cinecard.admin.users');
    assert.ok(table(view, 'users').some((r) => r['username'] === 'manager'));
    bench.host.press(view.id, 'save', { username: 'lisi', name: '李四', operator: 'op-lisi', role: 'salesperson' });
    view = await bench.waitForText(view.id, 'screen.users.created', { username: 'lisi', role: zh('role.salesperson') });
    assert.deepEqual(table(view, 'users').find((r) => r['username'] === 'lisi'), { username: 'lisi', name: '李四', roles: zh('role.salesperson'), state: zh('screen.users.enabled') });
    bench.host.press(view.id, 'save', { username: 'lisi', role: 'customer_query' });
    view = await bench.waitForText(view.id, 'screen.users.roles_set', { username: 'lisi', role: zh('role.customer_query') });
    bench.host.press(view.id, 'disable', { username: 'lisi' });
    view = await bench.waitForText(view.id, 'screen.users.disabled_done', { username: 'lisi' });
    bench.host.press(view.id, 'disable', { username: 'manager' });
    view = await bench.waitForText(view.id, 'screen.users.not_yourself');
    bench.host.dismiss(view.id);

    bench.host.setOperator({ id: 'op-lisi', name: '李四' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(bench.plugin.users.current, undefined, 'a disabled user is not mapped');
    await bench.as('manager');
    view = await bench.openMenu('cinecard.admin.users');
    bench.host.press(view.id, 'enable', { username: 'lisi' });
    await bench.waitForText(view.id, 'screen.users.enabled_done', { username: 'lisi' });
    bench.host.setOperator({ id: 'op-lisi', name: '李四' });
    await bench.host.waitUntil(() => (bench.plugin.users.current?.roles[0] === 'customer_query' ? true : undefined), 2000, 'lisi mapped');
  });

  it('rules: a manager adds a rule (kept locally while offline) that the popup then uses, and deletes it', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    let view = await bench.openMenu('cinecard.admin.rules');
    bench.host.press(view.id, 'save', { name: '晚场', kind: 'ticket', from: '18:00', to: '9', uses: 3 });
    view = await bench.waitForText(view.id, 'screen.rules.day_part_invalid');
    assert.deepEqual([field(view, 'name')?.value, field(view, 'from')?.value, field(view, 'uses')?.value], ['晚场', '18:00', 3], 'what was typed is kept');
    bench.host.press(view.id, 'save', { name: '晚场2D', kind: 'ticket', format: '2D', from: '18:00', to: '23:59', uses: 3, priority: 50 });
    view = await bench.waitForText(view.id, 'screen.rules.saved', { name: '晚场2D', central: zh('screen.rules.local_only') });
    assert.ok(table(view, 'rules').some((r) => r['name'] === '晚场2D' && r['uses'] === 3 && r['dayPart'] === '18:00–23:59'));
    bench.host.dismiss(view.id);
    await bench.host.waitForNoView();

    await bench.as('salesperson');
    bench.host.setSale(sampleSale); // two 2D tickets at 19:30
    await bench.tapNew();
    const popup = await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.') && field(v, 'uses') !== undefined);
    assert.equal(field(popup, 'uses')?.value, 6, 'two evening 2D tickets at 3 uses each');
    bench.host.press(popup.id, 'cancel');
    await bench.fx.remove();

    await bench.as('manager');
    view = await bench.openMenu('cinecard.admin.rules');
    bench.host.press(view.id, 'delete', { name: '晚场2D' });
    view = await bench.waitForText(view.id, 'screen.rules.deleted', { name: '晚场2D', central: zh('screen.rules.local_only') });
    assert.ok(!table(view, 'rules').some((r) => r['name'] === '晚场2D'));
  });

  it('plugin login: the login screen is for anyone; a wrong password is refused in plain words; log in, then log out', async () => {
    bench = await new ScreenBench().start({ config: { userMode: 'plugin_login' } });
    const who = () => bench.plugin.users.current;
    assert.equal(who(), undefined);
    let view = await bench.openMenu('cinecard.login');
    bench.host.press(view.id, 'confirm', { username: 'salesperson', password: 'wrong-password' });
    view = await bench.waitForText(view.id, 'screen.login.wrong');
    assert.equal(field(view, 'username')?.value, 'salesperson');
    bench.host.press(view.id, 'confirm', { username: 'salesperson', password: 'pw-salesperson-secret' });
    view = await bench.waitForText(view.id, 'screen.login.welcome', { name: 'salesperson' });
    assert.equal(who()?.userId, 'u-salesperson');
    bench.host.press(view.id, 'close');
    view = await bench.openMenu('cinecard.login');
    assert.ok(shows(view, zh('screen.login.as', { name: 'salesperson' })));
    bench.host.press(view.id, 'logout');
    await bench.waitForText(view.id, 'screen.login.logged_out');
    assert.equal(bench.plugin.users.current, undefined);
  });
});
