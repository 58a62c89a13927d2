/** TLS: with `tls.certFile`/`tls.keyFile` the service speaks HTTPS only. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config.ts';
import { createLogger } from '../logging.ts';
import { startCentral, type RunningCentral } from '../service.ts';

function get(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('central over TLS [sqlite]', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-tls-'));
  let central: RunningCentral | undefined;
  after(async () => {
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with the configured certificate, and refuses plain HTTP', async () => {
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    const config = parseConfig({ dataDir: dir, host: '127.0.0.1', port: 0, jwtSecret: 't'.repeat(32), logLevel: 'silent', tls: { certFile, keyFile } });
    central = await startCentral(config, { log: createLogger('silent') });
    assert.match(central.url, /^https:\/\//);
    const health = await get(`${central.url}/v1/health`, readFileSync(certFile));
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, 'ok');
    await assert.rejects(fetch(`${central.url.replace('https', 'http')}/v1/health`));
  });
});
