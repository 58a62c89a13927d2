/**
 * The export's memory budget (DESIGN §7, `npm run bench -- export`) is measured on central started
 * with the node flags of package.json's `central` script; the systemd unit of spec/operations.md
 * must start it with the same flags, or production runs a central nobody measured.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { shippedNodeArgs } from '../../../bench/export.ts';

describe('central heap setting', () => {
  it('caps the old generation in the central script, and the systemd unit starts central with the same flags', () => {
    const flags = shippedNodeArgs();
    assert.ok(
      flags.some((f) => /^--max-old-space-size=\d+$/.test(f)),
      `package.json's central script sets --max-old-space-size, got ${flags.join(' ')}`,
    );
    const operations = readFileSync(new URL('../../../spec/operations.md', import.meta.url), 'utf8');
    const execStart = operations.split('\n').find((line) => line.startsWith('ExecStart='));
    assert.equal(execStart, `ExecStart=/usr/bin/node ${flags.join(' ')} --import tsx central/main.ts serve`);
  });
});
