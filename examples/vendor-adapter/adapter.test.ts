/**
 * The NovaPOS adapter against the host contract: the view vocabulary mapped onto NovaPOS components,
 * `open`/`update`/`close` semantics, menu entries as Disposables, the sale mapping and the tender —
 * and every management screen CineCard registers, opened through NovaPOS's menu and rendered as a
 * NovaPOS page (a terminal without central, a manager signed in).
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessCardReader, demoCardKeys, type View } from '../../adapters/index.ts';
import { activate, type PluginHandle } from '../../plugin/index.ts';
import { CINECARD_TENDER, NovaHostSale, NovaHostSession, NovaHostUi, toNova } from './adapter.ts';
import { NovaPos, type NovaComponent, type NovaPanel } from './pos-sdk.ts';

const newPos = (dir = tmpdir()) =>
  new NovaPos({ workstationId: 'NOVA-T', staff: [{ staffNo: '9001', displayName: '经理', pin: '1' }], downloadsDir: join(dir, 'downloads') });

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('examples/vendor-adapter: CineCard on NovaPOS', () => {
  describe('HostUi → NovaPOS panels', () => {
    const popup: View = {
      type: 'dialog',
      id: 'cinecard.redeem.s1',
      title: '扣次',
      dismissible: true,
      children: [
        { type: 'text', text: '剩余 8 次', tone: 'strong', size: 'xl' },
        { type: 'banner', tone: 'warning', title: '注意', text: '卡片即将到期' },
        {
          type: 'stack',
          direction: 'horizontal',
          children: [
            { type: 'field', id: 'consumption', kind: 'select', label: '消费类型', value: 'ticket', options: [{ value: 'ticket', label: '影票' }, { value: 'concession', label: '卖品' }] },
            { type: 'field', id: 'uses', kind: 'number', label: '扣次', value: 2, min: 1, max: 8, step: 1 },
          ],
        },
        { type: 'field', id: 'expiry', kind: 'date', label: '有效期', value: '2027-11-25', required: true },
        { type: 'field', id: 'pw', kind: 'password', label: '密码', error: '太短' },
        { type: 'table', id: 'history', columns: [{ key: 'uses', label: '次数', align: 'end' }], rows: [{ uses: 2 }, { uses: null }], emptyText: '无' },
        { type: 'progress', value: 1, max: 2, label: '写卡中' },
        { type: 'button', id: 'confirm', label: '确认扣次', variant: 'primary', keepOpen: true },
        { type: 'button', id: 'cancel', label: '取消', variant: 'danger' },
        { type: 'button', id: 'off', label: '不可用', disabled: true },
      ],
    };

    it('maps every node of the vocabulary onto a NovaPOS component', () => {
      const kinds = (c: NovaComponent): string[] => (c.kind === 'row' || c.kind === 'column' ? [c.kind, ...c.items.flatMap(kinds)] : [c.kind]);
      assert.deepEqual(popup.children.map(toNova).flatMap(kinds), ['label', 'notice', 'row', 'picker', 'stepper', 'input', 'input', 'grid', 'meter', 'action', 'action', 'action']);
      assert.deepEqual(toNova(popup.children[0]!), { kind: 'label', text: '剩余 8 次', style: 'title' });
      assert.deepEqual(toNova(popup.children[1]!), { kind: 'notice', level: 'warn', heading: '注意', text: '卡片即将到期' });
      assert.deepEqual(toNova(popup.children[4]!), { kind: 'input', name: 'pw', caption: '密码', readOnly: false, errorText: '太短', inputType: 'password', value: '', mandatory: false });
      assert.deepEqual(toNova(popup.children[5]!), { kind: 'grid', name: 'history', columns: [{ field: 'uses', heading: '次数', rightAligned: true }], rows: [{ uses: '2' }, { uses: '' }], placeholder: '无' });
      assert.deepEqual(toNova(popup.children[7]!), { kind: 'action', key: 'confirm', caption: '确认扣次', look: 'main', enabled: true, closes: false });
    });

    it('open: keepOpen presses go to onAction, a closing button resolves with its values, typed values survive update', async () => {
      const pos = newPos();
      const ui = new NovaHostUi(pos);
      const pressed: unknown[] = [];
      const ended = ui.open(popup, (r) => pressed.push(r));
      const panel = pos.display.panel(popup.id)!;
      assert.equal(panel.size, 'compact');
      panel.type('uses', 3);
      assert.equal(panel.press('off'), false, 'a disabled button cannot be pressed');
      panel.press('confirm');
      assert.deepEqual(pressed, [{ action: 'confirm', values: { consumption: 'ticket', uses: 3, expiry: '2027-11-25', pw: '' } }]);
      assert.equal(panel.closed, false);
      ui.update({ ...popup, title: '扣次（更新）' });
      assert.equal(panel.heading, '扣次（更新）');
      assert.equal(panel.value('uses'), 3, 'what the cashier typed is kept');
      panel.press('cancel');
      assert.deepEqual(await ended, { action: 'cancel', values: { consumption: 'ticket', uses: 3, expiry: '2027-11-25', pw: '' } });
      assert.equal(pos.display.panel(popup.id), undefined);
    });

    it('open resolves undefined on close, on ✕ (dismissible only), and when the same id is opened again', async () => {
      const pos = newPos();
      const ui = new NovaHostUi(pos);
      const closed = ui.open(popup);
      ui.close(popup.id);
      assert.equal(await closed, undefined);
      ui.close(popup.id); // closing a closed view does nothing

      const dismissed = ui.open(popup);
      assert.equal(pos.display.panel(popup.id)!.dismiss(), true);
      assert.equal(await dismissed, undefined);

      const screen = ui.open({ type: 'screen', id: 'cinecard.x', title: 'x', children: [] });
      assert.equal(pos.display.panel('cinecard.x')!.dismiss(), false, 'not dismissible unless the view says so');
      const again = ui.open({ type: 'screen', id: 'cinecard.x', title: 'x2', children: [] });
      assert.equal(await screen, undefined, 'replaced by the same id');
      assert.equal(pos.display.panel('cinecard.x')!.size, 'fullscreen');
      ui.close('cinecard.x');
      assert.equal(await again, undefined);
    });

    it('menu entries come and go with their Disposable; offerFile saves to the POS downloads and toasts', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'novapos-ui-'));
      try {
        const pos = newPos(dir);
        const ui = new NovaHostUi(pos);
        let ran = 0;
        const entry = ui.registerMenuEntry({ id: 'cinecard.stats', title: '统计', group: 'reports', run: () => ran++ });
        assert.deepEqual(pos.menu.list().map((m) => [m.key, m.section]), [['cinecard.stats', 'CineCard · reports']]);
        pos.menu.select('cinecard.stats');
        assert.equal(ran, 1);
        entry.dispose();
        assert.deepEqual(pos.menu.list(), []);
        await ui.offerFile({ name: '统计/2026.csv', mimeType: 'text/csv', data: new TextEncoder().encode('a,b\n') });
        const saved = join(dir, 'downloads', '统计_2026.csv');
        assert.equal(readFileSync(saved, 'utf8'), 'a,b\n');
        assert.equal(pos.display.toasts.at(-1)?.level, 'ok');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('HostSession and HostSale', () => {
    it('the signed-in cashier is the operator; the language maps to a locale; events are Disposables', () => {
      const pos = newPos();
      const session = new NovaHostSession(pos);
      const seen: unknown[] = [];
      const sub = session.onOperatorChanged((op) => seen.push(op));
      const loc = session.onLocaleChanged((l) => seen.push(l));
      assert.equal(session.operator, undefined);
      assert.equal(session.locale, 'zh-CN');
      pos.session.signIn('9001', '1');
      pos.session.setLanguage('en-US');
      sub.dispose();
      loc.dispose();
      pos.session.signOut();
      assert.deepEqual(seen, [{ id: '9001', name: '经理' }, 'en']);
      assert.equal(session.stationId, 'NOVA-T');
    });

    it('admissions are tickets (one per seat), merchandise concessions; the CineCard tender is a NovaPOS payment, once per op', async () => {
      const pos = newPos();
      const sale = new NovaHostSale(pos);
      assert.equal(sale.current(), undefined);
      const tender = sale.registerTender();
      const admission = { film: 'F', screenFormat: 'IMAX', startsAt: '2026-11-25T20:00:00+08:00', ticketClass: 'adult' };
      pos.sales.addLine({ sku: 'ADM', description: 'F IMAX', kind: 'admission', quantity: 2, unitPriceCents: 8000, admission });
      pos.sales.addLine({ sku: 'POP', description: '爆米花', kind: 'merchandise', quantity: 1, unitPriceCents: 2500 });
      const s = sale.current()!;
      assert.deepEqual(s.tickets.map((t) => [t.lineId, t.format, t.priceFen]), [['1.1', 'IMAX', 8000], ['1.2', 'IMAX', 8000]]);
      assert.deepEqual(s.concessions, [{ lineId: '2', sku: 'POP', name: '爆米花', quantity: 1, unitPriceFen: 2500 }]);
      assert.equal(s.dueFen, 18500);

      const t = { saleId: s.saleId, cardNo: '1', uses: 2, consumption: 'ticket' as const, lineIds: ['1.1', '1.2'], amountFen: 16000, opId: 'op-1' };
      assert.deepEqual(await sale.applyTender({ ...t, saleId: 'another' }), { accepted: false, reason: 'sale_changed' });
      assert.deepEqual(await sale.applyTender(t), { accepted: true });
      assert.deepEqual(await sale.applyTender(t), { accepted: true }, 'the same op again is the same payment');
      assert.deepEqual(pos.sales.current!.payments, [{ tenderCode: CINECARD_TENDER, amountCents: 16000, reference: 'op-1', lineNos: [1] }]);
      assert.deepEqual(sale.current()!.tickets, [], 'paid lines are not offered again');
      assert.equal(sale.current()!.dueFen, 2500);
      tender.dispose();
      assert.deepEqual(await sale.applyTender({ ...t, opId: 'op-2', lineIds: ['2'], amountFen: 2500 }), { accepted: false, reason: 'UNKNOWN_TENDER' });
    });
  });

  describe('every CineCard screen on NovaPOS', () => {
    let dir: string;
    let pos: NovaPos;
    let plugin: PluginHandle;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'novapos-screens-'));
      pos = newPos(dir);
      plugin = await activate(
        { cardReader: new InProcessCardReader(), cardKeys: demoCardKeys(), ui: new NovaHostUi(pos), session: new NovaHostSession(pos), sale: new NovaHostSale(pos) },
        { dbFile: join(dir, 'terminal.sqlite'), terminal: { terminalId: 't-1', cinemaId: 'c-1', cinemaCode: 101, terminalNumber: 1, chainId: 1 } },
      );
      await plugin.users.put({ userId: 'u-9001', username: 'manager', displayName: '经理', roles: ['manager'], hostOperatorId: '9001' });
      pos.session.signIn('9001', '1'); // a menu entry chosen at once waits for CineCard to match the manager
    });

    after(async () => {
      await plugin?.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('each menu entry opens its screen as a NovaPOS page, never the refusal', async () => {
      const entries = pos.menu.list();
      assert.ok(entries.length >= 8, entries.map((e) => e.key).join(', '));
      for (const entry of entries) {
        pos.menu.select(entry.key);
        const panel: NovaPanel = await until(`screen ${entry.key}`, () => pos.display.panel(entry.key) ?? pos.display.panel('cinecard.forbidden'));
        assert.equal(panel.key, entry.key, `${entry.key}: ${panel.text()}`);
        assert.equal(panel.size, 'fullscreen');
        assert.ok(panel.components().length > 0);
        panel.close();
        await until(`${entry.key} to close`, () => !pos.display.panel(entry.key));
      }
    });

    it('the statistics screen exports through offerFile into the POS downloads', async () => {
      pos.menu.select('cinecard.stats');
      const stats = await until('the statistics screen', () => { const p = pos.display.panel('cinecard.stats'); return p?.components().some((c) => c.kind === 'action' && c.key === 'export_xlsx') && p; });
      stats.press('export_xlsx');
      const toast = await until('the export toast', () => pos.display.toasts.find((t) => t.text.endsWith('.xlsx') || /\.xlsx →/.test(t.text)));
      const path = toast.text.split(' → ')[1]!;
      assert.ok(existsSync(path), path);
      assert.equal(readFileSync(path).subarray(0, 2).toString(), 'PK', 'an .xlsx (zip) file');
      // The screen may still be showing the export's outcome: disposing the plugin (after) waits for it.
    });
  });
});
