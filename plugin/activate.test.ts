import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inProcessFixture, type CardFixture } from '../test-support/card-fixture.ts';
import { demoCardKeys } from '../adapters/keys/demo-card-keys.ts';
import { InProcessCardReader } from '../adapters/emulator/in-process-reader.ts';
import { MifareClassic1k } from '../adapters/emulator/mifare-classic.ts';
import { activate, PLUGIN_API_VERSION, REGISTRATIONS, type PluginHandle } from './activate.ts';
import type { Actor } from './auth/permissions.ts';
import { translate } from './i18n/catalogue.ts';
import { Translator } from './i18n/translator.ts';
import { registerScreens, type PluginScreen } from './screens/index.ts';
import { FakeHost, nodes as nodesOf, texts } from './test-support/fake-host.ts';
import { CASHIER, NOW_MS, makeCardImage, pluginConfig, seedTerminalDb, startPlugin } from './test-support/redemption-harness.ts';
import { silentLogger } from '../adapters/logger.ts';
import { TranslatorToken, UserSessionToken } from './tokens.ts';
import { RedemptionFlow } from './redemption/redemption-flow.ts';
import { ScreenBench, zh } from './screens/screen-test-kit.ts';

describe('activate / dispose', () => {
  let dir: string;
  let fx: CardFixture;
  let db: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-activate-'));
    db = join(dir, 'terminal.sqlite');
    fx = await inProcessFixture();
  });
  afterEach(async () => {
    await fx.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves every registration, each constructor parameter injected', async () => {
    await seedTerminalDb(db);
    const { plugin } = await startPlugin(fx, db);
    try {
      assert.equal(plugin.apiVersion, PLUGIN_API_VERSION);
      for (const token of REGISTRATIONS) {
        const value = plugin.resolve(token) as Record<string, unknown> | undefined;
        assert.ok(value !== undefined && value !== null, `${String(token)} resolves`);
      }
      // The classes the container builds: a constructor parameter without @inject would be undefined.
      for (const token of [TranslatorToken, UserSessionToken, RedemptionFlow]) {
        const value = plugin.resolve(token as never) as Record<string, unknown>;
        for (const [k, v] of Object.entries(value)) assert.notEqual(v, undefined, `${String(token)}.${k} is injected`);
      }
    } finally {
      await plugin.dispose();
    }
  });

  it('dispose() leaves nothing running: no handles or timers, listeners gone, reader and database closed, popup closed', async () => {
    await seedTerminalDb(db);
    const before = process.getActiveResourcesInfo().sort();
    const { host, plugin } = await startPlugin(fx, db);
    assert.ok(host.listenerCount > 0);
    await fx.insert(await makeCardImage(700_000_001n));
    await host.waitForView((v) => v.id.startsWith('cinecard.redeem.'));
    await plugin.settled();
    await plugin.dispose();
    await plugin.dispose(); // twice is harmless
    assert.equal(host.openViews.length, 0, 'the popup is closed');
    assert.equal(host.listenerCount, 0, 'no listeners left on the host');
    assert.deepEqual(fx.reader.readers, [], 'the reader is disposed');
    await assert.rejects(plugin.store.db.raw('select 1'), 'the database is closed');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(process.getActiveResourcesInfo().sort(), before, 'no handle or timer left behind');
  });

  it('rejects a bad configuration, naming the field, and a host without its adapters', async () => {
    const host = new FakeHost();
    const adapters = { cardReader: fx.reader, cardKeys: demoCardKeys(), ui: host.ui, session: host.session, sale: host.sale };
    await assert.rejects(activate(adapters, { ...pluginConfig(db), terminal: { ...pluginConfig(db).terminal!, cinemaCode: 70_000 } }), /terminal\.cinemaCode/);
    await assert.rejects(activate(adapters, { ...pluginConfig(db), timeZone: 'Mars/Base' }), /timeZone/);
    await assert.rejects(activate({ ...adapters, sale: undefined } as never, pluginConfig(db)), /sale/);
  });

  it('refuses a database enrolled for another terminal', async () => {
    await seedTerminalDb(db);
    const host = new FakeHost();
    const cfg = pluginConfig(db);
    await assert.rejects(
      activate({ cardReader: fx.reader, cardKeys: demoCardKeys(), ui: host.ui, session: host.session, sale: host.sale }, { ...cfg, terminal: { ...cfg.terminal!, terminalId: 'T-OTHER' } }),
      /belongs to terminal T-0001/,
    );
  });

  it('plugin-login mode: a user logs in with a password and out again; a wrong password gets nobody', async () => {
    await seedTerminalDb(db, { users: [{ userId: 'U-2', username: 'lisi', roles: ['manager'], password: 'correct horse' }] });
    const { plugin } = await startPlugin(fx, db, { config: { userMode: 'plugin_login' } });
    try {
      assert.equal(plugin.users.current, undefined);
      assert.equal(await plugin.users.login('lisi', 'wrong'), undefined);
      assert.equal((await plugin.users.login('lisi', 'correct horse'))?.userId, 'U-2');
      assert.equal(plugin.resolve(UserSessionToken).current?.userId, 'U-2');
      plugin.users.logout();
      assert.equal(plugin.users.current, undefined);
    } finally {
      await plugin.dispose();
    }
  });

  it('host-operator mode: the operator is mapped onto a local user, and follows operator changes', async () => {
    await seedTerminalDb(db);
    const { host, plugin } = await startPlugin(fx, db);
    try {
      assert.equal(plugin.users.current?.userId, 'U-1');
      host.setOperator(undefined);
      await host.waitUntil(() => (plugin.users.current === undefined ? true : undefined), 2000, 'logged out');
      host.setOperator(CASHIER);
      await host.waitUntil(() => plugin.users.current, 2000, 'mapped again');
    } finally {
      await plugin.dispose();
    }
  });
});

describe('screens in the host menu', () => {
  it('registers each screen, refuses a role without its permission, opens it for one with it, and removes entries on dispose', async () => {
    const host = new FakeHost({ nowMs: NOW_MS });
    const opened: string[] = [];
    const screen: PluginScreen = {
      id: 'cinecard.blacklist', title: 'screen.forbidden_title', group: 'card', permission: 'blacklist.manage',
      open: async (actor: Actor) => void opened.push(actor.userId),
    };
    let actor: Actor | undefined = { userId: 'U-1', displayName: '张三', roles: ['salesperson'] };
    const users = { get current() { return actor; } } as never;
    const i18n = new Translator(host.session, {});
    const reg = registerScreens([screen, { ...screen, id: 'cinecard.hq.make', mode: 'hq_station' }], { ui: host.ui, i18n, users, logger: silentLogger, mode: 'terminal' });
    assert.deepEqual([...host.menu.keys()], ['cinecard.blacklist'], 'HQ-station screens stay out of a till');
    host.menu.get('cinecard.blacklist')!.run();
    const refusal = await host.waitForView((v) => v.id === 'cinecard.forbidden');
    assert.ok(texts(refusal).includes(translate('zh-CN', 'screen.forbidden')));
    host.press(refusal.id, 'close');
    actor = { ...actor, roles: ['manager'] };
    host.menu.get('cinecard.blacklist')!.run();
    await host.waitUntil(() => (opened.length === 1 ? true : undefined), 2000, 'screen opened');
    assert.deepEqual(opened, ['U-1']);
    reg.dispose();
    assert.equal(host.menu.size, 0);
  });
});

describe('the plugin handle: public API, races after sign-in and tap, dispose with work in flight', () => {
  let bench: ScreenBench | undefined;
  afterEach(async () => {
    await bench?.stop();
    bench = undefined;
  });
  /** Everything the plugin logged at warn or error. */
  const problems = (b: ScreenBench) => b.host.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.level}: ${l.msg} ${JSON.stringify(l.fields)}`);

  it('plugin.users and plugin.cardTypes: a host maps its operators onto local users and gives the till its card types; a user put for the operator at the till takes effect at once', async () => {
    bench = await new ScreenBench().start();
    const { plugin, host } = bench;
    host.setOperator({ id: 'nova-0815', name: '周晓雨' });
    assert.equal(await plugin.users.settled(), undefined, 'nobody is mapped from this operator yet');
    await plugin.users.put({ userId: 'U-0815', username: 'nova0815', displayName: '周晓雨', roles: ['salesperson'], hostOperatorId: 'nova-0815' });
    assert.equal(plugin.users.current?.userId, 'U-0815', 'matched when put resolves');
    assert.deepEqual((await plugin.users.list()).find((u) => u.username === 'nova0815'), {
      userId: 'U-0815', displayName: '周晓雨', roles: ['salesperson'], username: 'nova0815', hostOperatorId: 'nova-0815', disabled: false,
    });
    const type = { code: 42, cardTypeId: '0190c0de-0000-7000-8000-000000000042', name: '亲子卡', pricePerUseFen: 2500 };
    assert.equal(await plugin.cardTypes.get(42), undefined);
    await plugin.cardTypes.put(type);
    assert.deepEqual(await plugin.cardTypes.get(42), type);
    await plugin.cardTypes.put({ ...type, name: '亲子卡（新）' });
    assert.equal((await plugin.cardTypes.get(42))?.name, '亲子卡（新）', 'replaced, not cached stale');
  });

  it('a menu entry chosen in the same moment as the sign-in waits for the match and opens the screen, never the refusal', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    await bench.as(undefined);
    bench.host.setOperator({ id: 'op-manager', name: 'manager' }); // the match is now in flight
    bench.host.menu.get('cinecard.stats')!.run();
    const view = await bench.host.waitForView((v) => v.id === 'cinecard.stats' || v.id === 'cinecard.forbidden');
    assert.equal(view.id, 'cinecard.stats');
    assert.ok(!bench.host.events.some((e) => e.viewId === 'cinecard.forbidden'), 'no refusal shown');
  });

  it('a card tapped right after a sign-in the host reports late is offered for redemption, not refused for want of a user', async () => {
    bench = await new ScreenBench().start({ as: 'salesperson' });
    await bench.as(undefined);
    bench.host.setOperator({ id: 'op-salesperson', name: 'salesperson' }, { notify: false }); // the event comes later
    await bench.tapNew();
    const popup = await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.') && nodesOf(v).some((n) => n.type === 'button' && n.id === 'confirm'));
    assert.ok(!texts(popup).includes(zh('redeem.no_user')), texts(popup).join(' | '));
    assert.notEqual((nodesOf(popup).find((n) => n.type === 'button' && n.id === 'confirm') as { disabled?: boolean }).disabled, true);
  });

  it('a card tapped the moment a management screen is chosen goes to that screen: no redemption popup', async () => {
    bench = await new ScreenBench().start({ as: 'salesperson' });
    const card = await makeCardImage(300_009_001n, { record: { status: 'made' } });
    bench.host.menu.get('cinecard.card.sell')!.run();
    (bench.fx.reader as InProcessCardReader).insert(new MifareClassic1k(card)); // in the same moment: before the screen could ask
    const form = await bench.waitForText('cinecard.card.sell', 'redeem.card_no', { cardNo: '300009001' });
    assert.ok(nodesOf(form).some((n) => n.type === 'button' && n.id === 'confirm'));
    assert.ok(!bench.host.events.some((e) => e.viewId.startsWith('cinecard.redeem.')), 'the popup never opened');
    // Once the screen is done, taps go to the popup again.
    bench.host.press('cinecard.card.sell', 'cancel');
    await bench.host.waitUntil(() => (bench!.host.view('cinecard.card.sell') ? undefined : true), 2000, 'the screen closed');
    await new Promise((r) => setTimeout(r, 20));
    await bench.tapNew();
    await bench.host.waitForView((v) => v.id.startsWith('cinecard.redeem.'));
  });

  it('pendingOps counts an op from the moment its transaction commits (no central: the outbox)', async () => {
    bench = await new ScreenBench().start();
    const { plugin } = bench;
    const seen: number[] = [];
    plugin.sync.onStatus((s) => seen.push(s.pendingOps));
    assert.equal(plugin.sync.status.pendingOps, 0);
    for (let i = 1; i <= 3; i++) {
      await plugin.store.write((trx) => plugin.store.appendOp(trx, { kind: 'blacklist', cardNo: `30000000${i}`, payload: { reason: 'test' } }));
      assert.equal(plugin.sync.status.pendingOps, i, `op ${i} counted at once`);
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(await plugin.store.pendingCount(), 3);
  });

  it('dispose while the statistics screen re-renders: the query finishes, no view opens again, nothing is logged as failed, the database closes', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    const { plugin, host } = bench;
    for (let i = 0; i < 50; i++) await plugin.store.write((trx) => plugin.store.appendOp(trx, { kind: 'redeem', cardNo: '300000001', operatorId: 'u-manager', consumption: 'ticket', uses: 1, remainingAfter: 50 - i, payload: {} }));
    await bench.openMenu('cinecard.stats');
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    host.press('cinecard.stats', 'query', { report: 'summary', groupBy: 'day' }); // the screen queries and renders again
    const disposedAt = host.events.length;
    await plugin.dispose();
    assert.deepEqual(problems(bench), []);
    assert.deepEqual(host.events.slice(disposedAt).filter((e) => e.kind === 'open').map((e) => e.viewId), [], 'no view opened after dispose');
    assert.equal(host.openViews.length, 0);
    assert.equal(host.menu.size, 0);
    await assert.rejects(plugin.store.db.raw('select 1'), 'the database is closed');
    await new Promise((r) => setImmediate(r));
    assert.ok(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length <= before, 'no timer left behind');
  });

  it('dispose while a screen waits for the user match and while a tap is read: both end cleanly, nothing logged as failed', async () => {
    bench = await new ScreenBench().start({ as: 'manager' });
    const { plugin, host } = bench;
    await bench.as(undefined);
    host.setOperator({ id: 'op-manager', name: 'manager' });
    host.menu.get('cinecard.card.history')!.run();
    await bench.tapNew();
    await plugin.dispose();
    assert.deepEqual(problems(bench), []);
    assert.equal(host.openViews.length, 0);
  });
});
