/**
 * Headless Chromium for the till tests and the bench: Debian's chromium through playwright-core
 * (nothing is downloaded), and screenshots saved under artifacts/screenshots/ for CI to keep.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const screenshotDir = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function openTill(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, locale: 'zh-CN' });
  await page.goto(url);
  await page.waitForSelector('#login:not([hidden]), #till:not([hidden])');
  return page;
}

/** Saves `<name>.png`; returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export async function logIn(page: Page, login: string, password: string): Promise<void> {
  await page.fill('[data-testid=login-id]', login);
  await page.fill('[data-testid=login-password]', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('#till:not([hidden])');
}
