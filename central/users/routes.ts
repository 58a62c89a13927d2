/**
 * Users and roles. HQ admins manage everyone; a cinema manager manages its own cinema's users with
 * cinema roles. A user's roles are all HQ roles (no cinema) or all cinema roles (one cinema).
 */
import { z } from 'zod';
import type { components, operations } from '../client/schema.ts';
import { CentralError } from '../errors.ts';
import { userMessages } from './messages.ts';
import { createUserAccount } from './accounts.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { isoTime } from '../store/ids.ts';
import { hashPassword } from '../auth/passwords.ts';
import { isHqRole, roles as allRoles, type Role } from '../auth/permissions.ts';
import { requireCinema, type Principal } from '../auth/principal.ts';
import { CinemaStore, requireCinemaExists } from '../cinemas/cinema-store.ts';
import { UserStore, userView, type UserChanges, type UserRecord } from './user-store.ts';

type S = components['schemas'];

const role = z.enum(allRoles);
const password = z
  .string()
  .min(10, 'must have at least 10 characters')
  .max(256, 'must have at most 256 characters');
const roleList = z
  .array(role)
  .min(1, 'must name at least one role')
  .refine((list) => new Set(list).size === list.length, 'must not repeat a role');

export const UserPath = specSchema<operations['getUser']['parameters']['path']>()(z.strictObject({ userId: id }));

export const UserCreate = specSchema<S['UserCreate']>()(
  z.strictObject({
    username: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'must be 3 to 64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit'),
    displayName: text(1, 100),
    password,
    roles: roleList,
    cinemaId: id.optional(),
  }),
);

export const UserUpdate = specSchema<S['UserUpdate']>()(
  z
    .strictObject({
      displayName: text(1, 100).optional(),
      password: password.optional(),
      roles: roleList.optional(),
      disabled: z.boolean().optional(),
      unlock: z.literal(true).optional(),
    })
    .refine((v) => Object.keys(v).length > 0, 'must change at least one field'),
);

export const UserListQuery = specSchema<NonNullable<operations['listUsers']['parameters']['query']>>()(
  z.strictObject({ cinemaId: id.optional() }),
);

/** The scope of a role set: all HQ, all cinema, or mixed (refused). */
function scopeOf(userRoles: readonly Role[]): 'hq' | 'cinema' {
  const hq = userRoles.filter(isHqRole).length;
  if (hq === userRoles.length) return 'hq';
  if (hq === 0) return 'cinema';
  throw new CentralError(userMessages.roles_mixed);
}

export const usersModule: CentralModule = {
  name: 'users',
  routes: ({ db, clock, audit }) => {
    const users = new UserStore(db);
    const cinemas = new CinemaStore(db);

    async function visibleUser(principal: Principal, userId: string): Promise<UserRecord> {
      const user = await users.findById(userId);
      if (!user) throw new CentralError(userMessages.user_not_found, { userId });
      requireCinema(principal, user.cinemaId);
      return user;
    }

    return [
      defineRoute({
        path: '/v1/users',
        method: 'get',
        permission: 'users.read',
        query: UserListQuery,
        handler: async ({ query }, { principal }) => {
          if (query.cinemaId) requireCinema(principal, query.cinemaId);
          const cinemaId = query.cinemaId ?? principal.cinemaId ?? undefined;
          const now = clock.now();
          return { status: 200, body: { items: (await users.list({ cinemaId })).map((u) => userView(u, now)) } };
        },
      }),
      defineRoute({
        path: '/v1/users',
        method: 'post',
        permission: 'users.manage',
        body: UserCreate,
        handler: async ({ body }, { principal }) => {
          const scope = scopeOf(body.roles);
          if (scope === 'hq' && body.cinemaId) throw new CentralError(userMessages.hq_roles_take_no_cinema);
          if (scope === 'cinema' && !body.cinemaId) throw new CentralError(userMessages.cinema_roles_need_cinema);
          const cinemaId = body.cinemaId ?? null;
          requireCinema(principal, cinemaId);
          if (cinemaId) await requireCinemaExists(cinemas, cinemaId);
          const user = await createUserAccount({ db, clock, audit }, principal, { ...body, cinemaId });
          return { status: 201, body: userView(user, clock.now()) };
        },
      }),
      defineRoute({
        path: '/v1/users/{userId}',
        method: 'get',
        permission: 'users.read',
        params: UserPath,
        handler: async ({ params }, { principal }) => ({
          status: 200,
          body: userView(await visibleUser(principal, params.userId), clock.now()),
        }),
      }),
      defineRoute({
        path: '/v1/users/{userId}',
        method: 'patch',
        permission: 'users.manage',
        params: UserPath,
        body: UserUpdate,
        handler: async ({ params, body }, { principal }) => {
          const user = await visibleUser(principal, params.userId);
          if (body.roles) {
            const before = scopeOf(user.roles);
            if (scopeOf(body.roles) !== before) throw new CentralError(userMessages.roles_change_scope, { scope: before });
          }
          const self = principal.user?.id === user.id;
          if (self && (body.disabled === true || (body.roles && user.roles.includes('admin') && !body.roles.includes('admin')))) {
            throw new CentralError(userMessages.cannot_lock_out_self);
          }
          const now = clock.now();
          const changes: UserChanges = {
            updatedAt: isoTime(now),
            ...(body.displayName !== undefined && { displayName: body.displayName }),
            ...(body.password !== undefined && { passwordHash: await hashPassword(body.password) }),
            ...(body.roles !== undefined && { roles: [...body.roles].sort() }),
            ...(body.disabled !== undefined && { disabledAt: body.disabled ? (user.disabledAt ?? isoTime(now)) : null }),
            ...(body.unlock && { failedLogins: 0, lockedUntil: null }),
          };
          await db.transaction(async (trx) => {
            await users.update(trx, user.id, changes);
            await audit.record(trx, principal, {
              action: 'user.update',
              targetType: 'user',
              targetId: user.id,
              cinemaId: user.cinemaId,
              details: {
                ...(body.displayName !== undefined && { displayName: body.displayName }),
                ...(body.roles !== undefined && { roles: changes.roles }),
                ...(body.disabled !== undefined && { disabled: body.disabled }),
                ...(body.password !== undefined && { passwordChanged: true }),
                ...(body.unlock && { unlocked: true }),
              },
            });
          });
          const updated = await users.findById(user.id);
          return { status: 200, body: userView(updated!, now) };
        },
      }),
    ];
  },
};
