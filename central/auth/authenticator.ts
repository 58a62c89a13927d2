/**
 * Turns a bearer token into a `Principal`. The user and terminal are read afresh on every request,
 * so disabling a user, changing roles or revoking a terminal takes effect at once.
 */
import { CentralError } from '../errors.ts';
import { platformMessages } from '../messages.ts';
import type { TerminalRecord, TerminalStore } from '../terminals/terminal-store.ts';
import type { UserRecord, UserStore } from '../users/user-store.ts';
import { defaultPermissionTable, isHqRole, permissionsOf, type PermissionTable } from './permissions.ts';
import type { Principal } from './principal.ts';
import type { TokenService } from './tokens.ts';

export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly users: UserStore,
    private readonly terminals: TerminalStore,
    private readonly table: PermissionTable = defaultPermissionTable,
  ) {}

  /** The principal of an `Authorization` header value; throws `unauthorized` when there is none. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) throw new CentralError(platformMessages.token_missing);
    const claims = await this.tokens.verify(match[1]);
    if (!claims) throw new CentralError(platformMessages.token_invalid);
    const terminal = claims.terminalId ? await this.liveTerminal(claims.terminalId) : null;
    if (claims.kind === 'terminal') return this.terminalPrincipal(terminal!);
    const user = await this.users.findById(claims.userId);
    if (!user || user.disabledAt !== null) throw new CentralError(platformMessages.principal_gone);
    return this.userPrincipal(user, terminal);
  }

  /** A terminal by itself. */
  terminalPrincipal(terminal: TerminalRecord): Principal {
    return { kind: 'terminal', user: null, terminal, cinemaId: terminal.cinemaId, permissions: permissionsOf(this.table, [], true) };
  }

  /**
   * A user, alone (HQ users only; login enforces it) or on a terminal. On a terminal the terminal's
   * cinema is the scope; a cinema user's scope is its cinema either way.
   */
  userPrincipal(user: UserRecord, terminal: TerminalRecord | null): Principal {
    const hq = user.roles.every(isHqRole);
    return {
      kind: 'user',
      user,
      terminal,
      cinemaId: terminal?.cinemaId ?? (hq ? null : user.cinemaId),
      permissions: permissionsOf(this.table, user.roles, terminal !== null),
    };
  }

  private async liveTerminal(id: string): Promise<TerminalRecord> {
    const terminal = await this.terminals.findById(id);
    if (!terminal || terminal.revokedAt !== null) throw new CentralError(platformMessages.principal_gone);
    return terminal;
  }
}
