/**
 * The rendered API reference in a real browser (Debian's Chromium through playwright-core, as the
 * other browser tests): served by central under its Content-Security-Policy and opened from the
 * file, it shows the operations and sends no request outside its own origin.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { createApiReferenceModule, API_REFERENCE_PATH } from '../central/api-reference/routes.ts';
import { parseConfig } from '../central/config.ts';
import { healthModule } from '../central/health/routes.ts';
import { createLogger } from '../central/logging.ts';
import { startCentral, type RunningCentral } from '../central/service.ts';
import { launchChromium } from '../host-mock/e2e/browser.ts';
import { buildApiDocs } from './api-docs.ts';

describe('API reference in the browser', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-apiref-browser-'));
  const file = join(dir, 'index.html');
  let central: RunningCentral;
  let browser: Browser;

  before(async () => {
    await buildApiDocs(file);
    const config = parseConfig({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, jwtSecret: 'b'.repeat(40), logLevel: 'warn' });
    central = await startCentral(config, { log: createLogger('warn', new Writable({ write: (_c, _e, done) => done() })), modules: [healthModule, createApiReferenceModule(file)] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await central?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const where of ['served by central', 'opened as a file'] as const) {
    it(`${where}: shows an operation and requests nothing from another origin`, async () => {
      const url = where === 'served by central' ? `${central.url}${API_REFERENCE_PATH}` : pathToFileURL(file).href;
      const origin = where === 'served by central' ? central.url : 'file:';
      const page = await browser.newPage();
      const outside: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => {
        const u = r.url();
        if (!u.startsWith(origin) && !/^(data|blob):/.test(u)) outside.push(u);
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      try {
        await page.goto(url, { waitUntil: 'load' });
        await page.getByText('terminals', { exact: true }).first().click();
        await page.getByText('Enrol a terminal with a one-time code').first().click();
        await page.getByText('Spends a one-time enrolment code').first().waitFor({ timeout: 10_000 });
        await page.waitForTimeout(500); // late loads (logo, telemetry) would show here
      } finally {
        await page.close();
      }
      assert.deepEqual(outside, [], 'no request leaves the origin');
      assert.deepEqual(problems, [], 'no script error and no policy violation');
    });
  }
});
