/** Who is calling, and the checks every module uses to confine it. */
import { CentralError } from '../errors.ts';
import { platformMessages } from '../messages.ts';
import type { TerminalRecord } from '../terminals/terminal-store.ts';
import type { UserRecord } from '../users/user-store.ts';
import type { Permission } from './permissions.ts';
import { terminalView } from '../terminals/terminal-store.ts';
import { userView } from '../users/user-store.ts';
import type { components } from '../client/schema.ts';

export interface Principal {
  /** `user` (maybe on a terminal) or `terminal` (the terminal by itself). */
  readonly kind: 'user' | 'terminal';
  readonly user: UserRecord | null;
  readonly terminal: TerminalRecord | null;
  /**
   * The one cinema this principal may act for, or null for HQ-wide. A terminal's cinema binds
   * whoever uses it, HQ users included: a terminal of cinema A never acts for cinema B.
   */
  readonly cinemaId: string | null;
  readonly permissions: ReadonlySet<Permission>;
}

/** True when the principal may act for `cinemaId`. */
export function mayActFor(principal: Principal, cinemaId: string | null): boolean {
  return principal.cinemaId === null || principal.cinemaId === cinemaId;
}

/** Throws `forbidden` unless the principal may act for `cinemaId` (null: an HQ-wide thing). */
export function requireCinema(principal: Principal, cinemaId: string | null): void {
  if (!mayActFor(principal, cinemaId)) {
    throw new CentralError(platformMessages.cinema_out_of_scope, { cinemaId: cinemaId ?? 'HQ' });
  }
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!principal.permissions.has(permission)) throw new CentralError(platformMessages.permission_denied, { permission });
}

/** Ids for the audit log. */
export function actorOf(principal: Principal | null): { userId: string | null; terminalId: string | null } {
  return { userId: principal?.user?.id ?? null, terminalId: principal?.terminal?.id ?? null };
}

export function sessionView(principal: Principal, now: Date): components['schemas']['Session'] {
  return {
    kind: principal.kind,
    user: principal.user && userView(principal.user, now),
    terminal: principal.terminal && terminalView(principal.terminal),
    cinemaId: principal.cinemaId,
    permissions: [...principal.permissions].sort(),
  };
}
