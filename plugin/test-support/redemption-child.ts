/**
 * A terminal process for the crash tests: activates the plugin on a database file, puts the card
 * kept in a file on an in-process reader (its memory saved back to the file after every APDU, as a
 * physical card keeps what was written), and confirms one redemption. `CINECARD_CRASH_POINT` (see
 * `plugin/store/crash-point.ts`) kills it part-way. Env: `CHILD_DB`, `CHILD_CARD` (JSON: uid, image
 * hex), `CHILD_USES`.
 */
import 'reflect-metadata';
import { InProcessCardReader } from '../../adapters/emulator/in-process-reader.ts';
import { MifareClassic1k, type CardReply } from '../../adapters/emulator/mifare-classic.ts';
import { inProcessFixture } from '../../test-support/card-fixture.ts';
import { translate } from '../i18n/catalogue.ts';
import { loadCardFile, saveCardFile } from './card-file.ts';
import { texts } from './fake-host.ts';
import { sampleSale, startPlugin } from './redemption-harness.ts';

/** A card whose memory outlives this process: saved to `file` after every APDU. */
class FileBackedCard extends MifareClassic1k {
  constructor(private readonly file: string) {
    super(loadCardFile(file));
  }
  override transmit(apdu: Uint8Array): CardReply {
    const reply = super.transmit(apdu);
    saveCardFile(this.file, { uid: this.uid, image: this.image() });
    return reply;
  }
}

async function main(): Promise<void> {
  const db = process.env.CHILD_DB!, cardFile = process.env.CHILD_CARD!, uses = Number(process.env.CHILD_USES ?? 1);
  const fx = await inProcessFixture();
  const { host, plugin } = await startPlugin(fx, db);
  host.setSale(sampleSale);
  (fx.reader as InProcessCardReader).insert(new FileBackedCard(cardFile));
  const popup = await host.waitForView((v) => v.id.startsWith('cinecard.redeem.') && v.children.some((n) => n.type === 'stack'));
  host.press(popup.id, 'confirm', { uses });
  await host.waitForView((v) => texts(v).includes(translate('zh-CN', 'redeem.tender_applied')));
  await plugin.dispose();
  await fx.dispose();
  process.stdout.write('redeemed\n');
}

await main();
