/**
 * The card suite through the real stack: MifareClassicProfile → PcscCardReader (pcsc-mini) → pcscd →
 * vpcd → the emulated card in the card lab. Same tests as `../card.test.ts`, other transport.
 */
import { pcscFixture, startCardLab, type CardLab } from '../../../test-support/cardlab.ts';
import { defineCardSuite } from '../card-suite.ts';

describe('card profile through pcscd + vpcd', function () {
  this.timeout(60_000);
  let lab: CardLab;
  before(async () => {
    lab = await startCardLab();
  });
  after(async () => {
    await lab?.stop();
  });

  describe('suite', () => {
    defineCardSuite(() => pcscFixture(lab));
  });
});
