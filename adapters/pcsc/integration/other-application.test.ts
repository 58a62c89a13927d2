/**
 * Another application on the same reader, through its own pcsc-mini Client: a reset it makes costs
 * our session its authentication but not the session; an EXCLUSIVE hold delays our connect.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { isCardIoError } from '../../card-reader.ts';
import { PcscCardReader } from '../pcsc-card-reader.ts';
import { nextPresentOn, useCardLab, vpcdReaderName } from '../../../test-support/cardlab.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const sw = (r: Uint8Array) => Buffer.from(r.subarray(r.length - 2)).toString('hex').toUpperCase();
const NAME = vpcdReaderName(0);

/**
 * A second PC/SC application resets the card on the lab's reader: run as a process of its own (see
 * other-application.mjs: a Client's `stop()` may never return), killed if it takes over 10 s; it
 * kills itself once it has printed `reset`.
 */
async function resetByOtherApplication(): Promise<void> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./other-application.mjs', import.meta.url)), NAME], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  assert.equal(output.trim(), 'reset', `the other application ended (${signal ?? code}) saying: ${output.trim() || 'nothing'}`);
}

describe('PcscCardReader next to another PC/SC application', function () {
  this.timeout(30_000);
  const lab = useCardLab();
  let reader: PcscCardReader;
  beforeEach(async () => {
    reader = new PcscCardReader();
    await reader.start();
  });
  afterEach(async () => {
    reader.dispose();
    await lab().daemon.remove(0);
  });

  it('a reset by the other application fails one call (re-authenticate), and the session goes on', async () => {
    const session = await nextPresentOn(reader, NAME, () => lab().daemon.insert(0));
    assert.equal(sw(await session.transmit(hex('FF82000006FFFFFFFFFFFF'))), '9000');
    assert.equal(sw(await session.transmit(hex('FF860000050100046000'))), '9000');
    await resetByOtherApplication();
    await assert.rejects(session.transmit(hex('FFB0000410')), (e) => isCardIoError(e, 'transmit_failed') && e.code === 'ResetCard');
    assert.equal(session.present, true);
    assert.equal(sw(await session.transmit(hex('FFB0000410'))), '6300', 'the reset ended the authentication');
    assert.equal(sw(await session.transmit(hex('FF860000050100046000'))), '9000');
    assert.equal(sw(await session.transmit(hex('FFB0000410'))), '9000');
  });
});
