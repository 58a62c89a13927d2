/** Users and their roles in the database. */
import type { Knex } from 'knex';
import type { Role } from '../auth/permissions.ts';
import type { components } from '../client/schema.ts';

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly passwordHash: string;
  /** Null for an HQ user. */
  readonly cinemaId: string | null;
  readonly roles: readonly Role[];
  readonly disabledAt: string | null;
  readonly failedLogins: number;
  readonly lockedUntil: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  cinema_id: string | null;
  disabled_at: string | null;
  failed_logins: number;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

export type UserChanges = Partial<
  Pick<UserRecord, 'displayName' | 'passwordHash' | 'roles' | 'disabledAt' | 'failedLogins' | 'lockedUntil'>
> & { readonly updatedAt: string };

export class UserStore {
  constructor(private readonly db: Knex) {}

  async findById(id: string, trx: Knex = this.db): Promise<UserRecord | undefined> {
    const row = await trx<UserRow>('users').where({ id }).first();
    return row && (await this.withRoles(trx, [row]))[0];
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.db<UserRow>('users').where({ username }).first();
    return row && (await this.withRoles(this.db, [row]))[0];
  }

  async list(filter: { cinemaId?: string | undefined }): Promise<UserRecord[]> {
    const query = this.db<UserRow>('users').orderBy('username');
    if (filter.cinemaId) query.where({ cinema_id: filter.cinemaId });
    return this.withRoles(this.db, await query);
  }

  async insert(trx: Knex, user: UserRecord): Promise<void> {
    await trx<UserRow>('users').insert({
      id: user.id,
      username: user.username,
      display_name: user.displayName,
      password_hash: user.passwordHash,
      cinema_id: user.cinemaId,
      disabled_at: user.disabledAt,
      failed_logins: user.failedLogins,
      locked_until: user.lockedUntil,
      created_at: user.createdAt,
      updated_at: user.updatedAt,
    });
    await this.replaceRoles(trx, user.id, user.roles);
  }

  async update(trx: Knex, id: string, changes: UserChanges): Promise<void> {
    const row: Partial<UserRow> = { updated_at: changes.updatedAt };
    if (changes.displayName !== undefined) row.display_name = changes.displayName;
    if (changes.passwordHash !== undefined) row.password_hash = changes.passwordHash;
    if (changes.disabledAt !== undefined) row.disabled_at = changes.disabledAt;
    if (changes.failedLogins !== undefined) row.failed_logins = changes.failedLogins;
    if (changes.lockedUntil !== undefined) row.locked_until = changes.lockedUntil;
    await trx<UserRow>('users').where({ id }).update(row);
    if (changes.roles) await this.replaceRoles(trx, id, changes.roles);
  }

  /** Counts a failed login atomically; returns the new count. */
  async countFailedLogin(id: string): Promise<number> {
    await this.db<UserRow>('users').where({ id }).increment('failed_logins', 1);
    const row = await this.db<UserRow>('users').where({ id }).first('failed_logins');
    return row?.failed_logins ?? 0;
  }

  private async replaceRoles(trx: Knex, userId: string, userRoles: readonly Role[]): Promise<void> {
    await trx('user_roles').where({ user_id: userId }).delete();
    if (userRoles.length > 0) await trx('user_roles').insert(userRoles.map((role) => ({ user_id: userId, role })));
  }

  private async withRoles(trx: Knex, rows: UserRow[]): Promise<UserRecord[]> {
    if (rows.length === 0) return [];
    const roleRows = await trx<{ user_id: string; role: Role }>('user_roles')
      .whereIn(
        'user_id',
        rows.map((r) => r.id),
      )
      .orderBy('role');
    const byUser = new Map<string, Role[]>();
    for (const { user_id, role } of roleRows) byUser.set(user_id, [...(byUser.get(user_id) ?? []), role]);
    return rows.map((row) => ({
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      passwordHash: row.password_hash,
      cinemaId: row.cinema_id,
      roles: byUser.get(row.id) ?? [],
      disabledAt: row.disabled_at,
      failedLogins: row.failed_logins,
      lockedUntil: row.locked_until,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }));
  }
}

/** The API's view of a user (never the password hash). */
export function userView(user: UserRecord, now: Date): components['schemas']['User'] {
  const locked = user.lockedUntil !== null && user.lockedUntil > now.toISOString();
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    roles: [...user.roles],
    cinemaId: user.cinemaId,
    disabled: user.disabledAt !== null,
    lockedUntil: locked ? user.lockedUntil : null,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}
