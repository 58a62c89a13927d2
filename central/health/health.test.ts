import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('health', (central, database) => {
  it('reports the service and its database without a token', async () => {
    const health = ok(await central().client().GET('/v1/health'));
    assert.equal(health.status, 'ok');
    assert.equal(health.database, database.name);
    assert.match(health.version, /^\d+\.\d+\.\d+/);
  });
});
