/** The API reference served by central: 404 with how to build it, then the rendered page with its headers. */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApiDocs } from '../../docs/api-docs.ts';
import { parseConfig } from '../config.ts';
import { healthModule } from '../health/routes.ts';
import { createLogger } from '../logging.ts';
import { centralModules } from '../modules.ts';
import { startCentral, type RunningCentral } from '../service.ts';
import { API_REFERENCE_CSP, API_REFERENCE_PATH, createApiReferenceModule } from './routes.ts';

describe('API reference at /docs/api/', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-apiref-'));
  const file = join(dir, 'api', 'index.html');
  let central: RunningCentral;

  before(async () => {
    const config = parseConfig({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, jwtSecret: 'r'.repeat(40), logLevel: 'warn' });
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    central = await startCentral(config, { log: createLogger(config.logLevel, quiet), modules: [healthModule, createApiReferenceModule(file)] });
  });
  after(async () => {
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is one of central\'s modules', () => {
    assert.ok(centralModules.some((m) => m.name === 'api-reference'));
  });

  it('answers 404 saying how to build it while it is not built', async () => {
    const res = await fetch(`${central.url}${API_REFERENCE_PATH}`);
    assert.equal(res.status, 404);
    assert.match(await res.text(), /npm run docs:api/);
  });

  it('serves the rendered reference once built, without a token, under a policy that allows no other origin', async () => {
    await buildApiDocs(file);
    const res = await fetch(`${central.url}${API_REFERENCE_PATH}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('content-security-policy'), API_REFERENCE_CSP);
    assert.doesNotMatch(API_REFERENCE_CSP, /https?:|\*/, 'no other origin is allowed');
    const html = await res.text();
    assert.match(html, /<title>CineCard central API<\/title>/);
    assert.match(html, /"operationId":"enrolTerminal"/);

    const bare = await fetch(`${central.url}${API_REFERENCE_PATH.slice(0, -1)}`, { redirect: 'manual' });
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.get('location'), API_REFERENCE_PATH);
  });
});
