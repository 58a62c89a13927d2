/**
 * The spec and the server agree: every operation has a route with the permission the spec names,
 * every route is in the spec, and the committed generated client is what `npm run gen` makes now.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { centralModules } from './modules.ts';
import { createPlatform } from './platform.ts';
import { specOperations, specPath, specValidator } from './test-support/spec-validator.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('central API contract', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cinecard-contract-'));
  const platform = createPlatform(parseConfig({ dataDir, jwtSecret: 'c'.repeat(32), logLevel: 'silent' }), createLogger('silent'));
  const routes = centralModules.flatMap((m) => m.routes(platform).map((r) => ({ module: m.name, route: r })));
  const operations = specOperations();
  after(async () => {
    await platform.db.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has a route for every spec operation, with the permission in its x-permission', () => {
    const problems: string[] = [];
    for (const op of operations) {
      const match = routes.find(({ route }) => route.method === op.method && route.path === op.path);
      if (!match) problems.push(`${op.operationId} (${op.method.toUpperCase()} ${op.path}) has no route`);
      else if (match.route.permission !== op.permission) {
        problems.push(`${op.operationId}: the spec says x-permission ${op.permission}, the route needs ${match.route.permission}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('has every route in the spec', () => {
    const extra = routes
      .filter(({ route }) => !operations.some((op) => op.method === route.method && op.path === route.path))
      .map(({ module, route }) => `${route.method.toUpperCase()} ${route.path} (module ${module})`);
    assert.deepEqual(extra, []);
  });

  it('gives every operation an operationId, an x-permission and the error response', () => {
    for (const op of operations) {
      assert.ok(op.operationId, `${op.method} ${op.path} has no operationId`);
      assert.ok(op.permission, `${op.operationId} has no x-permission`);
      assert.ok('4XX' in op.definition['responses'], `${op.operationId} lists no 4XX error response`);
    }
  });

  it('has the committed generated client up to date with spec/openapi.yaml (run `npm run gen`)', function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'cinecard-gen-'));
    try {
      const fresh = join(dir, 'schema.ts');
      execFileSync(join(root, 'node_modules/.bin/openapi-typescript'), [fileURLToPath(specPath), '-o', fresh], { cwd: root, stdio: 'pipe' });
      const committed = readFileSync(join(root, 'central/client/schema.ts'), 'utf8');
      assert.ok(readFileSync(fresh, 'utf8') === committed, 'central/client/schema.ts is stale: run `npm run gen` and commit it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks responses against the spec, and notices a response that breaks it', () => {
    const cinema = { id: '01900000-0000-7000-8000-000000000000', code: 'X', name: 'X', address: null, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' };
    assert.deepEqual(specValidator.check('GET', `/v1/cinemas/${cinema.id}`, 200, 'application/json', JSON.stringify(cinema)), []);
    const broken = specValidator.check('GET', `/v1/cinemas/${cinema.id}`, 200, 'application/json', JSON.stringify({ ...cinema, name: 7 }));
    assert.equal(broken.length, 1);
    assert.match(broken[0]!, /\/name must be string/);
    assert.match(specValidator.check('GET', '/v1/cinemas', 500, 'application/json', '{}')[0]!, /no response 500/);
  });
});
