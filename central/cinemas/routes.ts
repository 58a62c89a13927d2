/** Cinemas: HQ creates and edits them; everyone reads the ones it may act for. */
import { z } from 'zod';
import type { components } from '../client/schema.ts';
import { CentralError } from '../errors.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { isoTime, newId } from '../store/ids.ts';
import { isUniqueViolation } from '../store/db-errors.ts';
import { CinemaStore, requireCinemaExists, type Cinema } from './cinema-store.ts';
import { cinemaMessages } from './messages.ts';

type S = components['schemas'];

export const CinemaPath = specSchema<{ cinemaId: string }>()(z.strictObject({ cinemaId: id }));

export const CinemaCreate = specSchema<S['CinemaCreate']>()(
  z.strictObject({
    code: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1 to 32 letters, digits, "_" or "-"'),
    name: text(1, 100),
    address: text(1, 200).optional(),
  }),
);

export const CinemaUpdate = specSchema<S['CinemaUpdate']>()(
  z
    .strictObject({ name: text(1, 100).optional(), address: text(1, 200).nullable().optional() })
    .refine((v) => Object.keys(v).length > 0, 'must change at least one field'),
);

export const cinemasModule: CentralModule = {
  name: 'cinemas',
  routes: ({ db, clock, audit }) => {
    const cinemas = new CinemaStore(db);
    return [
      defineRoute({
        path: '/v1/cinemas',
        method: 'get',
        permission: 'cinemas.read',
        handler: async (_input, { principal }) => ({ status: 200, body: { items: await cinemas.list(principal.cinemaId) } }),
      }),
      defineRoute({
        path: '/v1/cinemas',
        method: 'post',
        permission: 'cinemas.manage',
        body: CinemaCreate,
        handler: async ({ body }, { principal }) => {
          const now = isoTime(clock.now());
          const cinema: Cinema = { id: newId(), code: body.code, name: body.name, address: body.address ?? null, createdAt: now, updatedAt: now };
          try {
            await db.transaction(async (trx) => {
              await cinemas.insert(trx, cinema);
              await audit.record(trx, principal, {
                action: 'cinema.create',
                targetType: 'cinema',
                targetId: cinema.id,
                cinemaId: cinema.id,
                details: { code: cinema.code, name: cinema.name, address: cinema.address },
              });
            });
          } catch (error) {
            if (isUniqueViolation(error)) throw new CentralError(cinemaMessages.cinema_code_taken, { code: body.code });
            throw error;
          }
          return { status: 201, body: cinema };
        },
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}',
        method: 'get',
        permission: 'cinemas.read',
        params: CinemaPath,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params }) => ({ status: 200, body: await requireCinemaExists(cinemas, params.cinemaId) }),
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}',
        method: 'patch',
        permission: 'cinemas.manage',
        params: CinemaPath,
        body: CinemaUpdate,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, body }, { principal }) => {
          const before = await requireCinemaExists(cinemas, params.cinemaId);
          const after: Cinema = {
            ...before,
            name: body.name ?? before.name,
            address: body.address === undefined ? before.address : body.address,
            updatedAt: isoTime(clock.now()),
          };
          await db.transaction(async (trx) => {
            await cinemas.update(trx, after);
            await audit.record(trx, principal, {
              action: 'cinema.update',
              targetType: 'cinema',
              targetId: after.id,
              cinemaId: after.id,
              details: { changed: body },
            });
          });
          return { status: 200, body: after };
        },
      }),
    ];
  },
};
