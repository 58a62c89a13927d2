import { inProcessFixture } from '../../test-support/card-fixture.ts';
import { cardReaderContract } from '../../test-support/cardlab-contract.ts';

cardReaderContract('in-process', inProcessFixture);
