/**
 * `npm start`: the demo, on this machine only. Starts the central service on a SQLite file in
 * ./data (creating a demo HQ admin the first time), then shows an emulated card being made, tapped
 * and redeemed through the card profile. Stopping and starting again keeps the data.
 *
 * The reference POS in the browser (host-mock) joins this launcher with issue 6.
 */
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InProcessCardReader } from '../adapters/emulator/in-process-reader.ts';
import { MifareClassic1k } from '../adapters/emulator/mifare-classic.ts';
import { demoCardKeys } from '../adapters/keys/demo-card-keys.ts';
import { isReadable } from '../plugin/card/card-outcome.ts';
import { InMemoryCardWriteJournal } from '../plugin/card/card-write-journal.ts';
import { MifareClassicProfile } from '../plugin/card/mifare-classic-profile.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = resolve(process.env.CINECARD_DATA_DIR ?? join(root, 'data'));
const port = Number(process.env.PORT ?? 8480);
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const centralMain = join(root, 'central', 'main.ts');
// DEMO credentials: printed below, for this local demo only.
const DEMO_ADMIN = { username: 'admin', password: 'cinecard-demo' };

mkdirSync(dataDir, { recursive: true });
// A per-installation token secret, made on first start and kept out of the repository.
const secretFile = join(dataDir, 'demo-jwt-secret');
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
const env = {
  ...process.env,
  CINECARD_DATA_DIR: dataDir,
  PORT: String(port),
  CINECARD_JWT_SECRET: readFileSync(secretFile, 'utf8').trim(),
};

const adminMarker = join(dataDir, 'demo-admin-created');
if (!existsSync(adminMarker)) {
  const made = spawnSync(tsx, [centralMain, 'create-admin', '-u', DEMO_ADMIN.username, '-n', 'Demo HQ admin'], {
    env: { ...env, CINECARD_ADMIN_PASSWORD: DEMO_ADMIN.password },
    stdio: 'inherit',
  });
  if (made.status !== 0) {
    console.error('Could not create the demo admin; see the message above.');
    process.exit(1);
  }
  writeFileSync(adminMarker, new Date().toISOString());
}

const central = spawn(tsx, [centralMain, 'serve'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
central.once('exit', (code) => {
  console.error(`The central service stopped (exit code ${code}).`);
  process.exit(code ?? 1);
});
const stop = () => central.kill('SIGTERM');
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

async function waitForHealth(url: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`the central service did not answer at ${url} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** An emulated card made, tapped and redeemed, as the cashier's popup will do it. */
async function cardDemo(): Promise<void> {
  const reader = new InProcessCardReader();
  await reader.start();
  const profile = new MifareClassicProfile(demoCardKeys());
  const now = Math.floor(Date.now() / 1000);
  const year = 365 * 86_400;
  let session = reader.insert(new MifareClassic1k());
  await profile.personalise(
    session,
    { cardType: 1, blocked: false, cardNumber: 100_000_001n, issuedAt: now, originalExpiry: now + year, initialUses: 10, chainId: 1, issuingCinema: 1 },
    { remainingUses: 10, lifetimeUsesLoaded: 10, expiry: now + year, status: 'active', lastTxTime: now, lastCinema: 1, lastTerminal: 1, lastAmount: -10, lastTxKind: 'issue' },
  );
  const card = reader.card!;
  reader.remove();
  session = reader.insert(card); // the cardholder taps
  const tap = await profile.read(session);
  if (!isReadable(tap)) throw new Error(`the demo card did not read: ${tap.kind}`);
  const r = tap.record;
  const written = await profile.writeRecord(
    session,
    tap,
    { ...r, remainingUses: r.remainingUses - 2, lastTxTime: now, lastCinema: 1, lastTerminal: 1, lastAmount: 2, lastTxKind: 'redeem' },
    new InMemoryCardWriteJournal(),
  );
  console.log(
    `Card demo (emulated MIFARE Classic 1K, DEMO keys): card ${tap.static.cardNumber} read in ${tap.apdus} APDUs with ` +
      `${r.remainingUses} uses; redeemed 2 → ${written.record.remainingUses} left (seq ${written.record.seq}).`,
  );
  reader.dispose();
}

try {
  await waitForHealth(`http://127.0.0.1:${port}/v1/health`);
  await cardDemo();
  console.log(`
CineCard is running (data in ${dataDir}).
  Central API:  http://127.0.0.1:${port}/v1   (health: /v1/health; spec: spec/openapi.yaml)
  Demo HQ admin: ${DEMO_ADMIN.username} / ${DEMO_ADMIN.password}   (DEMO credentials, local only)
Press Ctrl+C to stop.`);
} catch (err) {
  console.error(`Start-up failed: ${(err as Error).message}`);
  stop();
}
