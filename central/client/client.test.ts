import assert from 'node:assert/strict';
import { createCentralClient, isApiError } from './index.ts';
import { describeCentral } from '../test-support/harness.ts';

describeCentral('the generated client (cinecard/client)', (central) => {
  it('sends the current token from a function, and none when it gives undefined', async () => {
    let token: string | undefined = central().admin.token;
    const client = createCentralClient(central().url, { token: () => token });
    assert.equal((await client.GET('/v1/auth/session')).response.status, 200);
    token = undefined;
    const anonymous = await client.GET('/v1/auth/session');
    assert.equal(anonymous.response.status, 401);
    assert.ok(isApiError(anonymous.error));
    assert.equal(anonymous.error.code, 'token_missing');
  });

  it('passes extra headers (e.g. the language)', async () => {
    const client = createCentralClient(central().url, { headers: { 'accept-language': 'zh-CN' } });
    const { error } = await client.GET('/v1/auth/session');
    assert.match(error?.message ?? '', /令牌/);
  });

  it('tells error bodies from other values', () => {
    assert.equal(isApiError({ type: 'not_found', code: 'x', message: 'm' }), true);
    assert.equal(isApiError({ message: 'm' }), false);
    assert.equal(isApiError(null), false);
  });
});
