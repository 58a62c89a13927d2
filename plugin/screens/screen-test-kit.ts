/**
 * Shared set-up for the management-screen tests: a terminal database with one local user per
 * role (each mapped from a host operator `op-<role>`), the plugin activated on an in-process reader
 * with a recording host, and helpers to act as a role, open a menu entry, and read what is shown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { View } from '../../adapters/host-ui.ts';
import { inProcessFixture, type CardFixture } from '../../test-support/card-fixture.ts';
import type { PluginHandle } from '../activate.ts';
import { roles, type Role } from '../auth/permissions.ts';
import type { PluginConfigInput } from '../config.ts';
import { translate, type MessageKey } from '../i18n/catalogue.ts';
import { TerminalStore, type TerminalIdentity } from '../store/terminal-store.ts';
import { FakeHost, nodes, texts } from '../test-support/fake-host.ts';
import { NOW_MS, makeCardImage, seedTerminalDb, startPlugin, type SeedOptions } from '../test-support/redemption-harness.ts';

export const zh = (key: MessageKey, params?: Record<string, string | number>) => translate('zh-CN', key, params);

/** One local user per role: `u-<role>`, mapped from host operator `op-<role>`, password `pw-<role>-secret`. */
export const usersByRole = roles.map((role) => ({ userId: `u-${role}`, username: role, roles: [role] as const, hostOperatorId: `op-${role}`, password: `pw-${role}-secret` }));

export class ScreenBench {
  readonly dir = mkdtempSync(join(tmpdir(), 'cinecard-screens-'));
  fx!: CardFixture;
  host!: FakeHost;
  plugin!: PluginHandle;
  private next = 300_000_001n;

  /** `offerFile: false`: the host lacks the optional file capability (`HostUi.offerFile`). */
  /** `fixture`: the reader and cards to use (default: in-process), e.g. the pcsc-mini → pcscd → vpcd one. */
  async start(options: { seed?: SeedOptions; config?: Partial<PluginConfigInput>; as?: Role; identity?: TerminalIdentity; offerFile?: boolean; fixture?: CardFixture } = {}): Promise<this> {
    this.fx = options.fixture ?? (await inProcessFixture());
    const dbFile = join(this.dir, 'terminal.sqlite');
    await seedTerminalDb(dbFile, { users: usersByRole, ...options.seed });
    if (options.identity) {
      // A terminal enrolled at a real central: its ids are central's.
      const store = await TerminalStore.open({ filename: dbFile });
      await store.setIdentity(options.identity).finally(() => store.close());
    }
    const role = options.as ?? 'manager';
    const host = new FakeHost({ operator: { id: `op-${role}`, name: role }, nowMs: NOW_MS, ...(options.offerFile === false && { offerFile: false }) });
    ({ host: this.host, plugin: this.plugin } = await startPlugin(this.fx, dbFile, { host, ...(options.config && { config: options.config }) }));
    return this;
  }

  /** The host's operator becomes the user of `role` (undefined: nobody). */
  async as(role: Role | undefined): Promise<void> {
    this.host.setOperator(role && { id: `op-${role}`, name: role });
    await this.host.waitUntil(() => (this.plugin.users.current?.roles[0] === role ? true : undefined), 2000, `acting as ${role}`);
  }

  /** Runs a menu entry and waits for the view it opens (the screen's own, or the refusal). */
  async openMenu(id: string): Promise<View> {
    const entry = this.host.menu.get(id);
    if (!entry) throw new Error(`no menu entry ${id}; menu: ${[...this.host.menu.keys()].join(', ')}`);
    entry.run();
    return this.host.waitForView((v) => v.id === id || v.id === 'cinecard.forbidden', 5000, `the view of ${id}`);
  }

  /** Waits for view `id` to show `key`'s text (in zh-CN). */
  waitForText(id: string, key: MessageKey, params?: Record<string, string | number>): Promise<View> {
    const text = zh(key, params);
    return this.host.waitForView((v) => v.id === id && shows(v, text), 5000, `${id} showing “${text}”`);
  }

  /** A new card (made off the reader) put on the plugin's reader. */
  async tapNew(over: Parameters<typeof makeCardImage>[1] = {}): Promise<bigint> {
    const cardNo = this.next++;
    await this.fx.insert(await makeCardImage(cardNo, over));
    return cardNo;
  }

  async stop(): Promise<void> {
    await this.plugin?.dispose();
    await this.fx?.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function shows(v: View, text: string): boolean {
  return texts(v).some((t) => t === text || t.includes(text));
}

export function field(v: View, id: string): { value?: string | number | null; error?: string } | undefined {
  const n = nodes(v).find((x) => x.type === 'field' && x.id === id);
  return n?.type === 'field' ? n : undefined;
}

export function table(v: View, id: string): Record<string, string | number | null>[] {
  const n = nodes(v).find((x) => x.type === 'table' && x.id === id);
  if (n?.type !== 'table') throw new Error(`no table ${id}`);
  return n.rows;
}
