/**
 * Who may do what (DESIGN §5): the one table of roles → permissions. Routes declare the permission
 * they need; nothing else decides access. Card-domain permissions are listed here already so a
 * module only has to name them on its routes.
 */

export const hqRoles = ['admin', 'operator', 'statistician'] as const;
export const cinemaRoles = ['manager', 'local_statistician', 'customer_query', 'salesperson'] as const;
export const roles = [...hqRoles, ...cinemaRoles] as const;
export type HqRole = (typeof hqRoles)[number];
export type CinemaRole = (typeof cinemaRoles)[number];
export type Role = HqRole | CinemaRole;

export function isHqRole(role: Role): role is HqRole {
  return (hqRoles as readonly Role[]).includes(role);
}

export const permissions = [
  // platform
  'cinemas.read',
  'cinemas.manage',
  'terminals.enrol',
  'terminals.read',
  'users.read',
  'users.manage',
  'audit.read',
  // HQ operations (operator)
  'card_types.manage',
  'cards.make',
  'cards.top_up',
  'cards.change_type',
  'backups.manage',
  // HQ statistics (statistician)
  'stats.global',
  'settlement.read',
  'exports.global',
  // cinema (manager and below)
  'blacklist.manage',
  'cards.reissue',
  'rules.manage',
  'stats.local',
  'exports.local',
  'cards.history',
  'cards.sell',
  'cards.redeem',
  'cards.renew',
  // rebuilding from the cards (both databases lost): HQ operators and cinema managers
  'cards.rebuild',
  // what an enrolled terminal itself may do (sync)
  'sync.upload',
  'sync.pull',
] as const;
export type Permission = (typeof permissions)[number];

/** What a route needs: a permission, any valid token (`authenticated`) or nothing (`public`). */
export type Requirement = Permission | 'authenticated' | 'public';

const salesperson: Permission[] = ['cinemas.read', 'cards.sell', 'cards.redeem', 'cards.renew'];
const customerQuery: Permission[] = ['cinemas.read', 'cards.history'];
const localStatistician: Permission[] = ['cinemas.read', 'stats.local', 'exports.local'];

/** The default table (DESIGN §5). */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  admin: permissions.filter((p) => !p.startsWith('sync.')),
  operator: ['cinemas.read', 'card_types.manage', 'cards.make', 'cards.top_up', 'cards.change_type', 'backups.manage', 'cards.rebuild'],
  statistician: ['cinemas.read', 'stats.global', 'settlement.read', 'exports.global'],
  manager: [
    ...new Set<Permission>([
      'users.read',
      'users.manage',
      'terminals.read',
      'blacklist.manage',
      'cards.reissue',
      'rules.manage',
      'cards.rebuild',
      ...localStatistician,
      ...customerQuery,
      ...salesperson,
    ]),
  ],
  local_statistician: localStatistician,
  customer_query: customerQuery,
  salesperson,
};

/**
 * What an enrolled terminal may do by itself (no user logged in on it). A terminal sells (activates)
 * cards of its own cinema: at the till the cashier is the host POS's operator, who need not be a
 * CineCard user (issue 3: "salesperson of that cinema, or that cinema's terminal"). A user logged in
 * on a terminal has their own roles' permissions, not the terminal's: a customer-query clerk on a
 * till must not gain the right to sell from the machine they sit at. It reads a card's history for
 * its screens (shown to a cashier whose local role allows it); its other card changes travel as
 * synced ops (`spec/sync.md` §2). Likewise it reads its own cinema's statistics and exports
 * (`stats.local`, `exports.local`) for the till's statistics screen, which checks the cashier's
 * local role (manager, local statistician) before asking: at the till the user is the host's
 * operator, who holds no central token.
 * And it records rebuilds from the cards of its cinema and reads their progress (`cards.rebuild`)
 * for the till's rebuild screen, which checks the local manager role the same way.
 */
export const terminalPermissions: readonly Permission[] = ['cinemas.read', 'cards.sell', 'cards.history', 'stats.local', 'exports.local', 'cards.rebuild', 'sync.upload', 'sync.pull'];

/** Who may do what: each role's permissions and a terminal's own. */
export interface PermissionTable {
  readonly roles: Readonly<Record<Role, readonly Permission[]>>;
  readonly terminal: readonly Permission[];
}

export const defaultPermissionTable: PermissionTable = { roles: rolePermissions, terminal: terminalPermissions };

/**
 * The default table with a chain's own choices laid over it (config `permissions`): a role or
 * `terminal` named there gets exactly the permissions listed.
 */
export function permissionTable(overrides: Partial<Record<Role | 'terminal', readonly Permission[]>> = {}): PermissionTable {
  const { terminal, ...roleOverrides } = overrides;
  return { roles: { ...rolePermissions, ...roleOverrides }, terminal: terminal ?? terminalPermissions };
}

/** A terminal alone has the terminal's permissions; a user (on a terminal or not) has their roles'. */
export function permissionsOf(table: PermissionTable, userRoles: readonly Role[], onTerminal: boolean): Set<Permission> {
  if (onTerminal && userRoles.length === 0) return new Set(table.terminal);
  const granted = new Set<Permission>();
  for (const role of userRoles) for (const p of table.roles[role]) granted.add(p);
  return granted;
}
