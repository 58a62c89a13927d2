/** Making a user account: shared by the API and the first-admin command. */
import type { Platform } from '../platform.ts';
import type { Principal } from '../auth/principal.ts';
import type { Role } from '../auth/permissions.ts';
import { hashPassword } from '../auth/passwords.ts';
import { CentralError } from '../errors.ts';
import { isUniqueViolation } from '../store/db-errors.ts';
import { isoTime, newId } from '../store/ids.ts';
import { userMessages } from './messages.ts';
import { UserStore, type UserRecord } from './user-store.ts';

export interface NewUser {
  readonly username: string;
  readonly displayName: string;
  readonly password: string;
  readonly roles: readonly Role[];
  readonly cinemaId: string | null;
}

/** Hashes the password, stores the user and its roles, and audits it, in one transaction. */
export async function createUserAccount(
  { db, clock, audit }: Pick<Platform, 'db' | 'clock' | 'audit'>,
  actor: Principal | null,
  input: NewUser,
  details: Readonly<Record<string, unknown>> = {},
): Promise<UserRecord> {
  const now = isoTime(clock.now());
  const user: UserRecord = {
    id: newId(),
    username: input.username,
    displayName: input.displayName,
    passwordHash: await hashPassword(input.password),
    cinemaId: input.cinemaId,
    roles: [...input.roles].sort(),
    disabledAt: null,
    failedLogins: 0,
    lockedUntil: null,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.transaction(async (trx) => {
      await new UserStore(db).insert(trx, user);
      await audit.record(trx, actor, {
        action: 'user.create',
        targetType: 'user',
        targetId: user.id,
        cinemaId: user.cinemaId,
        details: { username: user.username, roles: user.roles, ...details },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new CentralError(userMessages.username_taken, { username: input.username });
    throw error;
  }
  return user;
}
