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

describe('an unexpected failure', function () {
  this.timeout(30_000);

  it('answers 500 internal with the request id, hides the detail from the client and logs it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { Writable } = await import('node:stream');
    const { parseConfig } = await import('../config.ts');
    const { createLogger } = await import('../logging.ts');
    const { createPlatform } = await import('../platform.ts');
    const { buildServer } = await import('./server.ts');
    const dataDir = mkdtempSync(join(tmpdir(), 'cinecard-boom-'));
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    const platform = createPlatform(parseConfig({ dataDir, jwtSecret: 'b'.repeat(32) }), log);
    const failing = {
      name: 'failing',
      routes: () => [
        { path: '/v1/boom', method: 'get' as const, permission: 'public' as const, handler: async (): Promise<never> => { throw new Error('detail only for the log'); } },
      ],
    };
    const app = await buildServer(platform, [failing]);
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${address.port}/v1/boom`);
      assert.equal(response.status, 500);
      const body = (await response.json()) as { type: string; code: string; message: string };
      const requestId = response.headers.get('x-request-id');
      assert.ok(requestId);
      assert.equal(body.type, 'internal');
      assert.ok(body.message.includes(requestId), body.message);
      assert.ok(!JSON.stringify(body).includes('detail only for the log'));
      const logged = lines.map((l) => JSON.parse(l) as { level: number; reqId?: string; err?: { message: string } });
      assert.ok(logged.some((l) => l.level === 50 && l.reqId === requestId && l.err?.message === 'detail only for the log'));
    } finally {
      await app.close();
      await platform.db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
