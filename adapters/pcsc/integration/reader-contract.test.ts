/** The CardReader contract through the real stack: pcsc-mini → pcscd → vpcd → the emulated card. */
import { pcscFixture, startCardLab, type CardLab } from '../../../test-support/cardlab.ts';
import { cardReaderContract } from '../../../test-support/cardlab-contract.ts';

describe('PcscCardReader through pcscd + vpcd', function () {
  this.timeout(30_000);
  let lab: CardLab;
  before(async () => {
    lab = await startCardLab();
  });
  after(async () => {
    await lab?.stop();
  });

  cardReaderContract('pcscd+vpcd', () => pcscFixture(lab), { slack: 1000 });
});
