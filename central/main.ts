#!/usr/bin/env node
/**
 * The central service's command line and composition root:
 *   serve | migrate | create-admin | enrol-code | backup | restore
 * Configuration: `--config <file.json>` and the environment (CINECARD_DATA_DIR, DATABASE_URL, HOST,
 * PORT, CINECARD_JWT_SECRET, CINECARD_ACCESS_TOKEN_TTL, CINECARD_LOG_LEVEL).
 */
import 'reflect-metadata';
import { chmod } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type CentralConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { createPlatform, type Platform } from './platform.ts';
import { startCentral } from './service.ts';
import { migrateToLatest } from './store/migration-source.ts';
import { createAdmin } from './users/bootstrap.ts';
import { CinemaStore } from './cinemas/cinema-store.ts';
import { Enrolment } from './terminals/enrolment.ts';
import { TerminalStore } from './terminals/terminal-store.ts';
import { ZodError } from 'zod';
import { CentralError } from './errors.ts';
import { backupDirectory, backupEngine, createBackupService, offsiteTarget } from './backup/setup.ts';
import { checkBackup, locateBackup, restoreBackup } from './backup/restore.ts';
import { pendingMigrations } from './store/migration-source.ts';
import { contentsDifference, totalRows } from './backup/manifest.ts';

const program = new Command('cinecard-central')
  .description('CineCard central service (HQ API)')
  .addOption(new Option('-c, --config <file>', 'JSON configuration file').env('CINECARD_CONFIG'))
  .showHelpAfterError();

function config(): CentralConfig {
  return loadConfig(program.opts<{ config?: string }>().config);
}

/** Runs `work` with a platform, then closes the database. */
async function withPlatform<T>(work: (platform: Platform) => Promise<T>): Promise<T> {
  const cfg = config();
  const platform = createPlatform(cfg, createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, process.stderr as never));
  try {
    return await work(platform);
  } finally {
    await platform.db.destroy();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

program
  .command('serve')
  .description('run pending migrations and serve the API')
  .option('--no-migrate', 'do not run migrations first')
  .action(async (options: { migrate: boolean }) => {
    const cfg = config();
    const log = createLogger(cfg.logLevel);
    const central = await startCentral(cfg, { log, migrate: options.migrate });
    log.info({ url: central.url, database: central.platform.dialect }, 'central service listening');
    const stop = async (signal: string) => {
      log.info({ signal }, 'stopping');
      await central.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('migrate')
  .description('bring the database schema up to date')
  .action(() =>
    withPlatform(async ({ db, dialect }) => {
      const ran = await migrateToLatest(db);
      console.log(ran.length ? `Ran ${ran.length} migration(s) on ${dialect}: ${ran.join(', ')}` : `The ${dialect} schema is up to date.`);
    }),
  );

program
  .command('create-admin')
  .description('create an HQ admin user (the password comes from CINECARD_ADMIN_PASSWORD or stdin)')
  .requiredOption('-u, --username <name>', 'username (lowercase)')
  .option('-n, --display-name <name>', 'display name')
  .option('--password-stdin', 'read the password from standard input')
  .action((options: { username: string; displayName?: string; passwordStdin?: boolean }) =>
    withPlatform(async (platform) => {
      const password = options.passwordStdin ? await readStdin() : process.env['CINECARD_ADMIN_PASSWORD'];
      if (!password) throw new UsageError('Give the password with --password-stdin or in CINECARD_ADMIN_PASSWORD.');
      await migrateToLatest(platform.db);
      const user = await createAdmin(platform, { username: options.username, password, displayName: options.displayName });
      console.log(`Created admin ${user.username} (${user.id}).`);
    }),
  );

program
  .command('enrol-code')
  .description('issue a one-time enrolment code for a terminal of a cinema')
  .requiredOption('--cinema <code-or-id>', "the cinema's code or id")
  .option('--replaces <terminal-id>', 're-enrol this terminal of the cinema (a wiped or replaced machine): same id, new secret')
  .action((options: { cinema: string; replaces?: string }) =>
    withPlatform(async ({ db, audit, clock, config: cfg }) => {
      const cinemas = new CinemaStore(db);
      const cinema =
        (await cinemas.findByCode(options.cinema)) ??
        (/^[0-9a-f-]{36}$/i.test(options.cinema) ? await cinemas.findById(options.cinema) : undefined);
      if (!cinema) throw new UsageError(`There is no cinema with code or id "${options.cinema}".`);
      const terminals = new TerminalStore(db);
      if (options.replaces !== undefined && (!/^[0-9a-f-]{36}$/i.test(options.replaces) || (await terminals.findById(options.replaces))?.cinemaId !== cinema.id)) {
        throw new UsageError(`There is no terminal with id "${options.replaces}" at ${cinema.code}.`);
      }
      const enrolment = new Enrolment(db, terminals, audit, clock, cfg.enrolmentCodeTtlSeconds);
      const code = await enrolment.issueCode(cinema.id, null, options.replaces ?? null);
      const what = options.replaces ? `re-enrolling terminal ${options.replaces} of` : 'a terminal of';
      console.log(`Enrolment code for ${what} ${cinema.code} (${cinema.name}): ${code.code}\nValid once, until ${code.expiresAt}.`);
    }),
  );

program
  .command('backup')
  .description('make a backup now (copied off-site and verified as configured under backup.*)')
  .action(() =>
    withPlatform(async ({ config: cfg, clock, log }) => {
      const service = createBackupService(cfg, clock, log);
      const record = await service.run('cli');
      const where = service.directory.file(`${record.id}.${service.engine.extension}`);
      console.log(
        record.status === 'failed'
          ? `Backup ${record.id} FAILED: ${record.error}`
          : `Backup ${record.id} ${record.status} (${record.bytes} bytes, ${record.rows} rows, SHA-256 ${record.sha256}): ${where}` +
              (record.offsite === 'copied' ? '\nCopied off-site and read back.' : record.offsite === 'failed' ? `\nOff-site copy FAILED: ${record.error}` : ''),
      );
      if (record.status === 'failed' || record.offsite === 'failed') process.exitCode = 1;
    }),
  );

program
  .command('restore')
  .description('replace the configured database with a backup (stop every central instance first)')
  .argument('<backup>', 'a backup id (from the backup directory, or off-site), or the path of its file or manifest')
  .option('--overwrite <database>', 'confirm: the name of the database to overwrite (PostgreSQL: its name; SQLite: central.sqlite)')
  .option('--check', 'only check the backup (checksum and a trial restore into a scratch database); change nothing')
  .option('--no-safety-copy', 'do not save the current database before overwriting it (when it is unreadable)')
  .action((reference: string, options: { overwrite?: string; check?: boolean; safetyCopy: boolean }) =>
    withPlatform(async ({ config: cfg, db, clock }) => {
      const engine = backupEngine(cfg);
      const directory = backupDirectory(cfg);
      const located = await locateBackup(reference, directory, offsiteTarget(cfg));
      if (options.check) {
        await checkBackup(located, engine);
        const trial = await engine.inspect(located.file);
        const problem = trial.problems.join('; ') || contentsDifference(located.manifest, trial);
        if (problem) throw new UsageError(`Backup ${located.manifest.id} did not verify: ${problem}`);
        console.log(`Backup ${located.manifest.id} is intact and restores cleanly (${totalRows(located.manifest)} rows).`);
        return;
      }
      // The database being replaced is saved under a name retention and the list leave alone.
      const safetyCopy = directory.file(`pre-restore-${clock.now().toISOString().replace(/[-:.]/g, '')}.${engine.extension}`);
      const beforeOverwrite = async () => {
        await directory.ensure();
        try {
          await engine.dump(safetyCopy);
          await chmod(safetyCopy, 0o600); // like the backups: it holds password hashes and every card
        } catch (error) {
          throw new UsageError(
            `Could not save the current database before overwriting it (${(error as Error).message}); nothing was changed. ` +
              'If it is unreadable anyway, run the restore again with --no-safety-copy.',
          );
        }
        console.log(`Saved the current database as ${safetyCopy}.`);
      };
      const restored = await restoreBackup(located, engine, db, {
        overwrite: options.overwrite,
        beforeOverwrite: options.safetyCopy ? beforeOverwrite : undefined,
      });
      const pending = await pendingMigrations(db);
      console.log(
        `Restored ${located.manifest.id} (made ${located.manifest.startedAt}) into ${engine.databaseName}: ${totalRows(restored)} rows in ${Object.keys(restored.tables).length} tables, as the manifest says.` +
          (pending.length ? `\nThis version has ${pending.length} newer migration(s); \`serve\` (or \`migrate\`) applies them.` : ''),
      );
    }),
  );

class UsageError extends Error {}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof CentralError) {
    console.error(error.message);
  } else if (error instanceof ZodError) {
    console.error(`Invalid input:\n${error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  } else {
    console.error(`Failed: ${(error as Error).message ?? String(error)}`);
  }
  process.exitCode = 1;
});
