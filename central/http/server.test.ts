import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config.ts';
import { createLogger } from '../logging.ts';
import { createPlatform, type CentralModule } from '../platform.ts';
import { buildServer, fastifyPath } from './server.ts';

describe('central server assembly', () => {
  it('turns spec paths into fastify paths', () => {
    assert.equal(fastifyPath('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}'), '/v1/cinemas/:cinemaId/redemption-rules/:ruleId');
  });

  it('runs each module\'s install after the routes, and its onClose when the server closes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cinecard-install-'));
    const platform = createPlatform(parseConfig({ dataDir, jwtSecret: 'i'.repeat(32), logLevel: 'silent' }), createLogger('silent'));
    const events: string[] = [];
    const module: CentralModule = {
      name: 'extra',
      routes: () => [],
      install(app, p) {
        assert.equal(p, platform);
        events.push(`install (routes: ${app.hasRoute({ method: 'GET', url: '/v1/health' }) ? 'health present' : 'none'})`);
        app.addHook('onClose', async () => {
          events.push('closed');
        });
      },
    };
    const { healthModule } = await import('../health/routes.ts');
    const app = await buildServer(platform, [module, healthModule]);
    await app.close();
    await platform.db.destroy();
    rmSync(dataDir, { recursive: true, force: true });
    assert.deepEqual(events, ['install (routes: health present)', 'closed']);
  });

  it('refuses two modules claiming one operation', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cinecard-dup-'));
    const platform = createPlatform(parseConfig({ dataDir, jwtSecret: 'i'.repeat(32), logLevel: 'silent' }), createLogger('silent'));
    const { healthModule } = await import('../health/routes.ts');
    try {
      await assert.rejects(buildServer(platform, [healthModule, { ...healthModule, name: 'again' }]), /Two routes for get \/v1\/health \(module again\)/);
    } finally {
      await platform.db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
