/** Reading the audit log (admins). Entries are written by each module inside its transactions. */
import { z } from 'zod';
import type { operations } from '../client/schema.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { requireCinema } from '../auth/principal.ts';

export const AuditQuery = specSchema<NonNullable<operations['listAuditEntries']['parameters']['query']>>()(
  z.strictObject({
    limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').optional(),
    before: id.optional(),
    action: text(1, 64).optional(),
    cinemaId: id.optional(),
  }),
);

export const auditModule: CentralModule = {
  name: 'audit',
  routes: ({ audit }) => [
    defineRoute({
      path: '/v1/audit-log',
      method: 'get',
      permission: 'audit.read',
      query: AuditQuery,
      handler: async ({ query }, { principal }) => {
        // A principal bound to a cinema (an admin on a terminal) reads only that cinema's entries.
        if (query.cinemaId) requireCinema(principal, query.cinemaId);
        const cinemaId = query.cinemaId ?? principal.cinemaId ?? undefined;
        return { status: 200, body: await audit.list({ ...query, cinemaId, limit: query.limit ?? 100 }) };
      },
    }),
  ],
};
