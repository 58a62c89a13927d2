/**
 * `npm run example -- <name> [options]`: runs one example by name, passing the options on.
 *   npm run example -- vendor-adapter --cinema SH-101
 *   npm run example -- hq-automation --out settlement.xlsx
 *   npm run example -- config
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const examples: Record<string, string> = {
  'vendor-adapter': 'vendor-adapter/main.ts',
  'hq-automation': 'hq-automation/hq-automation.ts',
  config: 'config/validate.ts',
};

const [name, ...args] = process.argv.slice(2);
const file = name ? examples[name] : undefined;
if (!file) {
  console.error(`usage: npm run example -- <${Object.keys(examples).join(' | ')}> [options]   (see examples/README.md)`);
  process.exit(2);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
