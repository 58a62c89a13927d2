/** The backup settings: defaults, and mistakes named clearly. */
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ConfigError, parseConfig } from '../config.ts';
import { backupDirectory, backupEngine, offsiteTarget } from './setup.ts';

const base = { jwtSecret: 's'.repeat(32), dataDir: '/var/lib/cinecard' };

describe('backup configuration', () => {
  it('backs up daily into <dataDir>/backups, verified, keeping 14 backups and 30 days, no off-site copy', () => {
    const config = parseConfig(base);
    assert.deepEqual(config.backup, { enabled: true, intervalMinutes: 1440, keepCount: 14, keepDays: 30, verify: true });
    assert.equal(backupDirectory(config).path, resolve('/var/lib/cinecard/backups'));
    assert.equal(offsiteTarget(config), undefined);
    assert.equal(backupEngine(config).dialect, 'sqlite');
    assert.equal(backupEngine(parseConfig({ ...base, databaseUrl: 'postgres://u:pw@db/cinecard' })).databaseName, 'cinecard');
  });

  it('takes a directory, an off-site directory and retention', () => {
    const config = parseConfig({ ...base, backup: { directory: '/backups', offsite: { kind: 'directory', path: '/mnt/offsite' }, keepCount: 3, keepDays: 7 } });
    assert.equal(backupDirectory(config).path, resolve('/backups'));
    assert.equal(offsiteTarget(config)?.description, `directory ${resolve('/mnt/offsite')}`);
    assert.equal(offsiteTarget(config)?.localPath?.('cinecard-20250101T000000000Z', 'x.sqlite'), join(resolve('/mnt/offsite'), 'cinecard-20250101T000000000Z', 'x.sqlite'));
  });

  it('names each wrong setting', () => {
    assert.throws(
      () => parseConfig({ ...base, backup: { intervalMinutes: 0, offsite: { kind: 's3', path: 'x' }, keepCount: -1, color: 'red' } }),
      (e: ConfigError) => {
        assert.ok(e instanceof ConfigError);
        for (const key of ['backup.intervalMinutes', 'backup.offsite.kind', 'backup.keepCount', 'backup']) assert.ok(e.message.includes(`- ${key}:`), `${key} in ${e.message}`);
        return true;
      },
    );
  });
});
