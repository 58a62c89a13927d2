import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inProcessFixture, type CardFixture } from '../test-support/card-fixture.ts';
import { demoCardKeys } from '../adapters/keys/demo-card-keys.ts';
import { activate, PLUGIN_API_VERSION, REGISTRATIONS, type PluginHandle } from './activate.ts';
import type { Actor } from './auth/permissions.ts';
import { translate } from './i18n/catalogue.ts';
import { Translator } from './i18n/translator.ts';
import { registerScreens, type PluginScreen } from './screens/index.ts';
import { FakeHost, texts } from './test-support/fake-host.ts';
import { CASHIER, NOW_MS, makeCardImage, pluginConfig, seedTerminalDb, startPlugin } from './test-support/redemption-harness.ts';
import { silentLogger } from '../adapters/logger.ts';
import { TranslatorToken, UserSessionToken } from './tokens.ts';
import { RedemptionFlow } from './redemption/redemption-flow.ts';

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
