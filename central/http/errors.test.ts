/** Bad requests of every shape get a 4xx in the error model, never a 5xx. */
import assert from 'node:assert/strict';
import { describeCentral } from '../test-support/harness.ts';
import { specValidator } from '../test-support/spec-validator.ts';

describeCentral('HTTP errors', (central) => {
  async function send(path: string, init: RequestInit & { token?: boolean } = {}) {
    const headers = new Headers(init.headers);
    if (init.token !== false) headers.set('authorization', `Bearer ${central().admin.token}`);
    const response = await specValidator.fetch()(new Request(`${central().url}${path}`, { ...init, headers }));
    const body = (await response.json()) as { type: string; code: string; message: string; fields?: { path: string }[] };
    return { status: response.status, body };
  }
  const json = { 'content-type': 'application/json' };

  it('answers malformed JSON with 400 malformed_body', async () => {
    for (const payload of ['{"code":', '{"code": "A", }', 'nul', '"\\u00"']) {
      const { status, body } = await send('/v1/cinemas', { method: 'POST', headers: json, body: payload });
      assert.equal(status, 400, payload);
      assert.equal(body.code, 'malformed_body');
      assert.match(body.message, /could not be read/);
    }
  });

  it('answers a JSON body that is not an object with 400 naming the body', async () => {
    for (const payload of ['null', '[]', '42', '"text"', 'true']) {
      const { status, body } = await send('/v1/cinemas', { method: 'POST', headers: json, body: payload });
      assert.equal(status, 400, payload);
      assert.equal(body.type, 'invalid_data');
      assert.deepEqual(body.fields?.map((f) => f.path), ['body']);
    }
  });

  it('refuses prototype pollution attempts with 400', async () => {
    const { status } = await send('/v1/cinemas', { method: 'POST', headers: json, body: '{"__proto__": {"admin": true}, "code": "P", "name": "P"}' });
    assert.equal(status, 400);
  });

  it('answers a non-JSON content type with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']) {
      const { status, body } = await send('/v1/cinemas', { method: 'POST', headers: { 'content-type': type }, body: 'code=A&name=B' });
      assert.equal(status, 415, type);
      assert.equal(body.code, 'unsupported_media_type');
    }
  });

  it('answers a missing body with 400 and an empty JSON body with 400', async () => {
    assert.equal((await send('/v1/cinemas', { method: 'POST' })).status, 400);
    assert.equal((await send('/v1/cinemas', { method: 'POST', headers: json, body: '' })).status, 400);
  });

  it('answers a body over the limit with 413', async () => {
    const huge = JSON.stringify({ code: 'H', name: 'x'.repeat(central().platform.config.bodyLimitBytes) });
    const { status, body } = await send('/v1/cinemas', { method: 'POST', headers: json, body: huge });
    assert.equal(status, 413);
    assert.equal(body.code, 'body_too_large');
    assert.match(body.message, /bytes/);
  });

  it('answers absurdly deep JSON with a 4xx, not a crash', async () => {
    const depth = 200_000;
    const { status } = await send('/v1/cinemas', { method: 'POST', headers: json, body: '['.repeat(depth) + ']'.repeat(depth) });
    assert.ok(status >= 400 && status < 500, `status ${status}`);
    const { status: objects } = await send('/v1/cinemas', { method: 'POST', headers: json, body: '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) });
    assert.ok(objects >= 400 && objects < 500, `status ${objects}`);
  });

  it('answers unknown paths and methods with 404 route_not_found', async () => {
    assert.equal((await send('/v1/nothing-here')).body.code, 'route_not_found');
    assert.equal((await send('/v1/cinemas', { method: 'DELETE' })).status, 404);
    assert.equal((await send('/v1/cinemas/%ZZ')).status < 500, true);
  });

  it('answers bad query values with 400 naming them, and unknown query keys too', async () => {
    const limit = await send('/v1/audit-log?limit=0');
    assert.equal(limit.status, 400);
    assert.deepEqual(limit.body.fields?.map((f) => f.path), ['query.limit']);
    const many = await send('/v1/audit-log?limit=1&limit=2');
    assert.equal(many.status, 400);
    const unknown = await send('/v1/audit-log?colour=red');
    assert.equal(unknown.status, 400);
  });

  it('speaks Chinese when asked', async () => {
    const { body } = await send('/v1/cinemas/not-a-uuid', { headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
    assert.equal(body.code, 'invalid_request');
    assert.match(body.message, /请求无效/);
    const unauthorized = await send('/v1/cinemas', { token: false, headers: { 'accept-language': 'zh' } });
    assert.equal(unauthorized.status, 401);
    assert.match(unauthorized.body.message, /令牌/);
  });

  it('answers a malformed Authorization header with 401, not 500', async () => {
    for (const value of ['Bearer', 'Basic abc', 'Bearer a b c', 'Bearer \u00e9\u00e9']) {
      const response = await fetch(`${central().url}/v1/auth/session`, { headers: { authorization: value } });
      assert.equal(response.status, 401, value);
    }
  });
});
