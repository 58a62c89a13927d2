import assert from 'node:assert/strict';
import knex from 'knex';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.ts';

const secret = 's'.repeat(32);

describe('central configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cinecard-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes defaults, then the file, then the environment', () => {
    const file = join(dir, 'central.json');
    writeFileSync(file, JSON.stringify({ port: 9000, host: '0.0.0.0', login: { maxFailedAttempts: 3 } }));
    const config = loadConfig(file, { CINECARD_JWT_SECRET: secret, PORT: '9100', DATABASE_URL: 'postgres://x@y/z' });
    assert.equal(config.port, 9100);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.databaseUrl, 'postgres://x@y/z');
    assert.equal(config.login.maxFailedAttempts, 3);
    assert.equal(config.login.lockoutSeconds, 900);
    assert.equal(config.accessTokenTtlSeconds, 900);
  });

  it('names every wrong setting', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ port: 'eighty', colour: 'red', login: { maxFailedAttempts: 0 } }));
    assert.throws(
      () => loadConfig(file, { CINECARD_JWT_SECRET: 'short', DATABASE_URL: 'mysql://x' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        for (const part of ['port', 'jwtSecret: must be at least 32 characters long', 'databaseUrl: must start with postgres://', 'login.maxFailedAttempts', 'colour']) {
          assert.ok(error.message.includes(part), `message mentions ${part}:\n${error.message}`);
        }
        return true;
      },
    );
  });

  it('refuses an unknown role or permission in the permission table', () => {
    const file = join(dir, 'perm.json');
    writeFileSync(file, JSON.stringify({ permissions: { janitor: ['cinemas.read'], operator: ['cinemas.destroy'] } }));
    assert.throws(() => loadConfig(file, { CINECARD_JWT_SECRET: secret }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /permissions/);
      assert.match(error.message, /cinemas\.destroy|Invalid option/);
      return true;
    });
  });

  it('says clearly when the file is missing or not JSON', () => {
    assert.throws(() => loadConfig(join(dir, 'nope.json'), {}), /Cannot read the configuration file .*nope\.json/);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ port: 1');
    assert.throws(() => loadConfig(file, {}), /is not valid JSON/);
  });

  it('the CLI prints the problem and exits 1 on bad configuration', async function () {
    this.timeout(30_000);
    const root = fileURLToPath(new URL('..', import.meta.url));
    const run = promisify(execFile);
    const env = { ...process.env, CINECARD_JWT_SECRET: 'short', CINECARD_DATA_DIR: dir };
    const failure = await run(join(root, 'node_modules/.bin/tsx'), ['central/main.ts', 'migrate'], { cwd: root, env }).then(
      () => assert.fail('migrate succeeded with a bad configuration'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 1);
    assert.match(failure.stderr, /jwtSecret: must be at least 32 characters long/);
  });

  it('the CLI migrates, creates an admin and issues an enrolment code', async function () {
    this.timeout(60_000);
    const root = fileURLToPath(new URL('..', import.meta.url));
    const run = promisify(execFile);
    const dataDir = join(dir, 'cli');
    const env = { ...process.env, CINECARD_JWT_SECRET: secret, CINECARD_DATA_DIR: dataDir, CINECARD_ADMIN_PASSWORD: 'a fine password' };
    const tsx = join(root, 'node_modules/.bin/tsx');
    assert.match((await run(tsx, ['central/main.ts', 'migrate'], { cwd: root, env })).stdout, /Ran \d+ migration/);
    assert.match((await run(tsx, ['central/main.ts', 'create-admin', '-u', 'chief'], { cwd: root, env })).stdout, /Created admin chief/);
    const missing = await run(tsx, ['central/main.ts', 'enrol-code', '--cinema', 'NOPE'], { cwd: root, env }).catch((e: { stderr: string }) => e);
    assert.match(missing.stderr, /There is no cinema with code or id "NOPE"/);
    // A replacement code must name a terminal of that cinema.
    const db = knex({ client: 'sqlite3', connection: { filename: join(dataDir, 'central.sqlite') }, useNullAsDefault: true });
    try {
      await db('cinemas').insert({ id: '01a21400-0000-7000-8000-000000000001', code: 'CLI1', name: 'CLI cinema', created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
    } finally {
      await db.destroy();
    }
    const stranger = await run(tsx, ['central/main.ts', 'enrol-code', '--cinema', 'CLI1', '--replaces', '01a21400-0000-7000-8000-0000000000ff'], { cwd: root, env }).catch((e: { stderr: string }) => e);
    assert.match(stranger.stderr, /There is no terminal with id "01a21400-0000-7000-8000-0000000000ff" at CLI1/);
    assert.match((await run(tsx, ['central/main.ts', 'enrol-code', '--cinema', 'CLI1'], { cwd: root, env })).stdout, /Enrolment code for a terminal of CLI1/);
  });
});
