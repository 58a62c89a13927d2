import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inProcessFixture, type CardFixture } from '../../test-support/card-fixture.ts';
import type { PluginHandle } from '../activate.ts';
import { translate } from '../i18n/catalogue.ts';
import type { CrashPointName } from '../store/crash-point.ts';
import { TerminalStore } from '../store/terminal-store.ts';
import { texts, type FakeHost } from '../test-support/fake-host.ts';
import { loadCardFile, saveCardFile } from '../test-support/card-file.ts';
import { makeCardImage, readImage, sampleSale, seedTerminalDb, startPlugin } from '../test-support/redemption-harness.ts';

const CHILD = fileURLToPath(new URL('../test-support/redemption-child.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const zh = (key: Parameters<typeof translate>[1], params?: Record<string, number>) => translate('zh-CN', key, params);

function runTerminal(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

describe('terminal killed mid-redemption (child process)', function () {
  this.timeout(60_000);
  let dir: string;
  let fx: CardFixture | undefined;
  let plugin: PluginHandle | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cinecard-crash-'));
  });
  afterEach(async () => {
    await plugin?.dispose();
    await fx?.dispose();
    plugin = fx = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: { point: CrashPointName; landed: boolean }[] = [
    { point: 'card_write.after_read_back', landed: true },
    { point: 'card_write.after_begin', landed: false },
  ];
  for (const { point, landed } of cases) {
    it(`killed at ${point}: on restart the journal and the card recover the op exactly once`, async () => {
      const db = join(dir, 'terminal.sqlite'), cardFile = join(dir, 'card.json');
      await seedTerminalDb(db);
      saveCardFile(cardFile, await makeCardImage(555_000_001n));

      const run = await runTerminal({ CHILD_DB: db, CHILD_CARD: cardFile, CHILD_USES: '2', CINECARD_CRASH_POINT: point });
      // tsx runs the script in a child of its own and reports its SIGKILL as exit code 128 + 9.
      assert.ok(run.signal === 'SIGKILL' || run.code === 137, `the terminal should have been killed at ${point}; exit ${run.code}\n${run.out}\n${run.err}`);

      // What the crash left: the card written (or not), the journal entry durable, no op.
      const card = await readImage(loadCardFile(cardFile));
      assert.equal(card.record.remainingUses, landed ? 18 : 20);
      const store = await TerminalStore.open({ filename: db });
      assert.equal((await store.db('card_journal').count<{ n: number }[]>('* as n'))[0]!.n, 1);
      assert.equal((await store.opsOfCard('555000001')).length, 0);
      await store.close();

      // Restart: the same database, the same card tapped again.
      fx = await inProcessFixture();
      let host: FakeHost;
      ({ host, plugin } = await startPlugin(fx, db));
      host.setSale(sampleSale);
      await fx.insert(loadCardFile(cardFile));
      const view = await host.waitForView((v) => v.id.startsWith('cinecard.redeem.'));
      await plugin.settled();
      const shown = texts(host.view(view.id)!);
      assert.ok(shown.includes(landed ? zh('redeem.recovered_landed', { uses: 2 }) : zh('redeem.recovered_not_landed')), shown.join(' | '));
      assert.ok(shown.includes(zh('redeem.remaining', { remaining: landed ? 18 : 20 })));
      const ops = await plugin.store.opsOfCard('555000001');
      assert.equal(ops.length, landed ? 1 : 0);
      if (landed) {
        assert.equal(ops[0]!.uses, 2);
        assert.equal(ops[0]!.cardSeq, 2);
        assert.equal(host.tenders.length, 1, 'the same sale is still open: the tender is applied once');
      }
      assert.equal((await plugin.store.db('card_journal').count<{ n: number }[]>('* as n'))[0]!.n, 0);

      // Another tap: nothing more to recover, nothing recorded again.
      await fx.remove();
      await host.waitForNoView();
      await fx.reinsert();
      const again = await host.waitForView((v) => v.id.startsWith('cinecard.redeem.'));
      await plugin.settled();
      assert.ok(!texts(host.view(again.id)!).some((t) => t === zh('redeem.recovered_landed', { uses: 2 }) || t === zh('redeem.recovered_not_landed')));
      assert.equal((await plugin.store.opsOfCard('555000001')).length, landed ? 1 : 0);
      assert.equal((await readImage(await fx.snapshot())).record.remainingUses, landed ? 18 : 20);
    });
  }

  it('without a crash point the child completes the redemption (the harness itself works)', async () => {
    const db = join(dir, 'terminal.sqlite'), cardFile = join(dir, 'card.json');
    await seedTerminalDb(db);
    saveCardFile(cardFile, await makeCardImage(555_000_002n));
    const run = await runTerminal({ CHILD_DB: db, CHILD_CARD: cardFile, CHILD_USES: '1', CINECARD_CRASH_POINT: '' });
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /redeemed/);
    assert.equal((await readImage(loadCardFile(cardFile))).record.remainingUses, 19);
    const store = await TerminalStore.open({ filename: db });
    assert.equal((await store.opsOfCard('555000002')).length, 1);
    await store.close();
  });
});
