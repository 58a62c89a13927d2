import { readFileSync } from 'node:fs';
import { CentralError } from '../errors.ts';
import { defineRoute } from '../http/route.ts';
import { platformMessages } from '../messages.ts';
import type { CentralModule } from '../platform.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const healthModule: CentralModule = {
  name: 'health',
  routes: (platform) => [
    defineRoute({
      path: '/v1/health',
      method: 'get',
      permission: 'public',
      handler: async () => {
        try {
          await platform.db.raw('select 1');
        } catch (error) {
          throw new CentralError(platformMessages.database_unavailable, {}, undefined, { cause: error });
        }
        return {
          status: 200,
          body: {
            status: 'ok',
            database: platform.dialect,
            version,
            time: platform.clock.now().toISOString(),
          },
        };
      },
    }),
  ],
};
