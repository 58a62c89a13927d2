/** The CardReader contract through the real stack: pcsc-mini → pcscd → vpcd → the emulated card. */
import { pcscFixture, useCardLab } from '../../../test-support/cardlab.ts';
import { cardReaderContract } from '../../../test-support/cardlab-contract.ts';

describe('PcscCardReader through pcscd + vpcd', function () {
  this.timeout(30_000);
  const lab = useCardLab();
  cardReaderContract('pcscd+vpcd', () => pcscFixture(lab()), { slack: 1000 });
});
