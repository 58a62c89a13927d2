import assert from 'node:assert/strict';
import { CardIoError } from '../card-reader.ts';
import { toCardIoError } from './pcsc-card-reader.ts';

const pcscErr = (code: string) => Object.assign(new Error('[ Session.TaskTransmit ] Async task error'), { code });

describe('PcscCardReader error mapping', () => {
  const cases: [string, string][] = [
    ['RemovedCard', 'card_removed'],
    ['NotTransacted', 'card_removed'],
    ['NoSmartCard', 'card_removed'],
    ['NoCardConnection', 'card_removed'],
    ['ResetCard', 'transmit_failed'],
    ['ReaderUnavailable', 'reader_gone'],
    ['UnknownReader', 'reader_gone'],
    ['NoService', 'service_down'],
    ['CommError', 'service_down'],
    ['SharingViolation', 'sharing_violation'],
    ['CardIsBusy', 'transmit_failed'],
    ['SomethingNew', 'transmit_failed'],
  ];
  for (const [code, kind] of cases) {
    it(`maps ${code} to ${kind}, keeping the code and the cause`, () => {
      const cause = pcscErr(code);
      const e = toCardIoError(cause);
      assert.ok(e instanceof CardIoError);
      assert.equal(e.kind, kind);
      assert.equal(e.code, code);
      assert.equal(e.cause, cause);
    });
  }

  it('passes a CardIoError through and wraps anything else as transmit_failed', () => {
    const mine = new CardIoError('card_mute', 'x');
    assert.equal(toCardIoError(mine), mine);
    assert.equal(toCardIoError('boom').kind, 'transmit_failed');
    assert.equal(toCardIoError(undefined).kind, 'transmit_failed');
  });
});
