/** The first admin, made from the command line (there is nobody yet to call the API). */
import type { Platform } from '../platform.ts';
import { createUserAccount } from './accounts.ts';
import { UserCreate } from './routes.ts';
import type { UserRecord } from './user-store.ts';

export async function createAdmin(
  platform: Pick<Platform, 'db' | 'clock' | 'audit'>,
  input: { username: string; password: string; displayName?: string | undefined },
): Promise<UserRecord> {
  // The same rules as the API's user creation (username shape, password length).
  const body = UserCreate.parse({
    username: input.username,
    displayName: input.displayName ?? input.username,
    password: input.password,
    roles: ['admin'],
  });
  return createUserAccount(platform, null, { ...body, cinemaId: null }, { via: 'cli' });
}
