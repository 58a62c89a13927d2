/**
 * Another application on the same reader, through its own pcsc-mini Client: a reset it makes costs
 * our session its authentication but not the session; an EXCLUSIVE hold delays our connect.
 */
import assert from 'node:assert/strict';
import { CardDisposition, CardMode, Client, type Reader } from 'pcsc-mini';
import { isCardIoError } from '../../card-reader.ts';
import { PcscCardReader } from '../pcsc-card-reader.ts';
import { nextPresentOn, useCardLab, vpcdReaderName } from '../../../test-support/cardlab.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const sw = (r: Uint8Array) => Buffer.from(r.subarray(r.length - 2)).toString('hex').toUpperCase();
const NAME = vpcdReaderName(0);

/** A second PC/SC application's view of the lab's reader. */
async function otherApplication(): Promise<{ reader: Reader; stop(): void }> {
  const client = new Client();
  const reader = new Promise<Reader>((resolve) => {
    client.on('reader', (r) => r.name() === NAME && resolve(r));
  });
  client.on('error', () => {});
  client.start();
  return { reader: await reader, stop: () => client.stop() };
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
    const other = await otherApplication();
    try {
      const card = await other.reader.connect(CardMode.SHARED);
      await card.disconnect(CardDisposition.RESET);
    } finally {
      other.stop();
    }
    await assert.rejects(session.transmit(hex('FFB0000410')), (e) => isCardIoError(e, 'transmit_failed') && e.code === 'ResetCard');
    assert.equal(session.present, true);
    assert.equal(sw(await session.transmit(hex('FFB0000410'))), '6300', 'the reset ended the authentication');
    assert.equal(sw(await session.transmit(hex('FF860000050100046000'))), '9000');
    assert.equal(sw(await session.transmit(hex('FFB0000410'))), '9000');
  });
});
