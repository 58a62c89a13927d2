/** Builds the backup service from the configuration (used by the module and by the CLI). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CentralConfig } from '../config.ts';
import type { Clock } from '../store/ids.ts';
import { BackupDirectory } from './backup-directory.ts';
import { BackupService } from './backup-service.ts';
import type { BackupEngine } from './engine.ts';
import { DirectoryOffsite, type OffsiteTarget } from './offsite.ts';
import { PostgresEngine } from './postgres-engine.ts';
import { SqliteEngine } from './sqlite-engine.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function backupEngine(config: CentralConfig): BackupEngine {
  return config.databaseUrl ? new PostgresEngine(config.databaseUrl, config.backup.postgresBinDir) : new SqliteEngine(config.dataDir);
}

export function offsiteTarget(config: CentralConfig): OffsiteTarget | undefined {
  const offsite = config.backup.offsite;
  return offsite ? new DirectoryOffsite(offsite.path) : undefined;
}

export function backupDirectory(config: CentralConfig): BackupDirectory {
  return new BackupDirectory(config.backup.directory ?? join(config.dataDir, 'backups'));
}

export function createBackupService(config: CentralConfig, clock: Clock, log: Logger): BackupService {
  return new BackupService({
    engine: backupEngine(config),
    directory: backupDirectory(config),
    offsite: offsiteTarget(config),
    clock,
    log,
    retention: { keepCount: config.backup.keepCount, keepDays: config.backup.keepDays },
    verify: config.backup.verify,
    version,
  });
}
