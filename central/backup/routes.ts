/**
 * Backups as a central module: list them and start one (`backups.manage`: HQ operators and
 * admins), and the schedule, installed beside the routes and stopped — after the running backup
 * ends — when the server closes.
 */
import { defineRoute } from '../http/route.ts';
import type { CentralModule, Platform } from '../platform.ts';
import type { BackupService } from './backup-service.ts';
import { BackupSchedule } from './schedule.ts';
import { createBackupService } from './setup.ts';

interface Backups {
  readonly service: BackupService;
  schedule?: BackupSchedule;
}

// routes() and install() are called separately with the same platform; both need the one service.
const perPlatform = new WeakMap<Platform, Backups>();

function backupsOf(platform: Platform): Backups {
  let backups = perPlatform.get(platform);
  if (!backups) {
    backups = { service: createBackupService(platform.config, platform.clock, platform.log) };
    perPlatform.set(platform, backups);
  }
  return backups;
}

export const backupsModule: CentralModule = {
  name: 'backups',
  routes: (platform) => {
    const backups = backupsOf(platform);
    const { config, db, audit } = platform;
    return [
      defineRoute({
        path: '/v1/backups',
        method: 'get',
        permission: 'backups.manage',
        handler: async () => {
          const { items, lastVerified } = await backups.service.list();
          const next = backups.schedule?.nextRunAt;
          return {
            status: 200,
            body: {
              items,
              lastVerified,
              schedule: {
                enabled: config.backup.enabled,
                intervalMinutes: config.backup.intervalMinutes,
                nextRunAt: next ? next.toISOString() : null,
                offsiteConfigured: backups.service.offsite !== undefined,
              },
            },
          };
        },
      }),
      defineRoute({
        path: '/v1/backups',
        method: 'post',
        permission: 'backups.manage',
        handler: async (_input, { principal }) => {
          const started = await backups.service.start('api');
          await audit.record(db, principal, {
            action: 'backup.start',
            targetType: 'backup',
            targetId: started.record.id,
            cinemaId: null,
            details: {},
          });
          return { status: 202, body: started.record };
        },
      }),
    ];
  },

  install: async (app, platform) => {
    const backups = backupsOf(platform);
    const { service } = backups;
    if (platform.config.backup.enabled) {
      backups.schedule = new BackupSchedule({
        intervalMs: platform.config.backup.intervalMinutes * 60_000,
        clock: platform.clock,
        log: platform.log,
        lastStartedAt: () => service.lastStartedAt(),
        run: () => service.run('schedule'),
      });
      await backups.schedule.start();
    }
    app.addHook('onClose', async () => {
      backups.schedule?.stop();
      await service.idle();
    });
  },
};
