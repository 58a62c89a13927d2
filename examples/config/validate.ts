/**
 * Loads every example configuration through the loader the real program uses, so a file that
 * drifts from the code fails here (and in CI) instead of at a cinema:
 * - `terminal.json` → the plugin's `parseConfig` (what `activate` calls; the host reads the file);
 * - `central-*.json` → central's `loadConfig` (what `central/main.ts --config FILE` calls), with an
 *   empty environment so only the file counts.
 *
 *   npx tsx examples/config/validate.ts
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from 'cinecard/plugin';
import { loadConfig } from 'cinecard/central';
import { runMain } from '../common/central.ts';

export const exampleConfig = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));

/** The example terminal configuration as the plugin parses it. */
export function loadTerminalConfig(file = exampleConfig('terminal.json')) {
  return parseConfig(JSON.parse(readFileSync(file, 'utf8')));
}

/** An example central configuration as `central/main.ts` loads it (environment ignored). */
export function loadCentralConfig(name: string) {
  return loadConfig(exampleConfig(name), {});
}

async function main(): Promise<void> {
  const terminal = loadTerminalConfig();
  console.log(`terminal.json: terminal ${terminal.terminal.terminalNumber} of cinema ${terminal.terminal.cinemaCode}, chain ${terminal.terminal.chainId}, ${terminal.userMode}, central ${terminal.central?.urls.join(', ')}`);
  for (const name of ['central-sqlite.json', 'central-pg-a.json', 'central-pg-b.json']) {
    const c = loadCentralConfig(name);
    console.log(`${name}: ${c.databaseUrl ? `PostgreSQL ${new URL(c.databaseUrl).pathname.slice(1)}` : `SQLite in ${c.dataDir}`}, listening on ${c.host}:${c.port}, backups ${c.backup.enabled ? 'on' : 'off'}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) runMain(main);
