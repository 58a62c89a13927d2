/**
 * Who may do what at a cinema terminal (DESIGN §5, defaults). The plugin's own table — the plugin
 * never imports central's server code — with the same role and permission names as central, so a
 * user synced from central means the same thing here. Screens and actions ask {@link can}; nothing
 * else decides.
 */
export const terminalRoles = ['manager', 'local_statistician', 'customer_query', 'salesperson'] as const;
/** HQ roles, used by a plugin running in HQ-station mode. */
export const hqRoles = ['admin', 'operator', 'statistician'] as const;
export type Role = (typeof terminalRoles)[number] | (typeof hqRoles)[number];
export const roles: readonly Role[] = [...hqRoles, ...terminalRoles];

export const pluginPermissions = [
  'cards.redeem',
  'cards.sell',
  'cards.renew',
  'cards.history',
  'cards.reissue',
  'blacklist.manage',
  'rules.manage',
  'users.manage',
  'stats.local',
  'exports.local',
  // HQ station
  'cards.make',
  'cards.top_up',
  'cards.change_type',
  // both: rebuilding from the cards (central and terminal databases lost)
  'cards.rebuild',
] as const;
export type Permission = (typeof pluginPermissions)[number];

const salesperson: Permission[] = ['cards.sell', 'cards.redeem', 'cards.renew'];
const customerQuery: Permission[] = ['cards.history'];
const localStatistician: Permission[] = ['stats.local', 'exports.local'];

export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  admin: [...pluginPermissions],
  operator: ['cards.make', 'cards.top_up', 'cards.change_type', 'cards.rebuild'],
  statistician: [],
  manager: [...new Set<Permission>(['users.manage', 'blacklist.manage', 'cards.reissue', 'rules.manage', 'cards.rebuild', ...localStatistician, ...customerQuery, ...salesperson])],
  local_statistician: localStatistician,
  customer_query: customerQuery,
  salesperson,
};

/** Someone acting at the terminal, with the roles their local user carries. */
export interface Actor {
  readonly userId: string;
  readonly displayName: string;
  readonly roles: readonly Role[];
}

export function can(actor: Actor | undefined, permission: Permission): boolean {
  return actor !== undefined && actor.roles.some((r) => rolePermissions[r]?.includes(permission));
}
