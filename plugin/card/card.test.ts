import { inProcessFixture } from '../../test-support/card-fixture.ts';
import { defineCardSuite } from './card-suite.ts';

describe('card profile through the in-process reader', () => {
  defineCardSuite(inProcessFixture);
});
