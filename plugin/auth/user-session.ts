/**
 * Who is using CineCard at this till. Two modes, by configuration: `host_operator` maps the host's
 * logged-in operator onto a local user (`users.host_operator_id`); `plugin_login` has the user log in
 * to the plugin itself with a username and password (scrypt-hashed in `users.password_hash`).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { HostSession, type HostOperator } from '../../adapters/host-session.ts';
import { DisposableStore, Emitter, type Disposable } from '../../adapters/lifecycle.ts';
import type { PluginConfig } from '../config.ts';
import { LocalUsersToken, PluginConfigToken } from '../tokens.ts';
import type { Actor, Role } from './permissions.ts';

export type UserMode = 'host_operator' | 'plugin_login';

interface UserRow {
  user_id: string;
  username: string;
  display_name: string;
  password_hash: string | null;
  roles: string;
  host_operator_id: string | null;
  updated_at: string;
  disabled_at?: string | null;
}

/** A local user as the users screen lists them. */
export interface LocalUser extends Actor {
  readonly username: string;
  readonly hostOperatorId: string | null;
  readonly disabled: boolean;
}

const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

function toActor(r: UserRow): Actor {
  return { userId: r.user_id, displayName: r.display_name, roles: JSON.parse(r.roles) as Role[] };
}

export interface LocalUserInput {
  readonly userId: string;
  readonly username: string;
  readonly displayName: string;
  readonly roles: readonly Role[];
  readonly password?: string;
  readonly hostOperatorId?: string;
}

/** The local users table. */
export class LocalUsers {
  constructor(private readonly db: Knex, private readonly now: () => number) {}

  async put(u: LocalUserInput): Promise<void> {
    await this.db('users')
      .insert({
        user_id: u.userId,
        username: u.username,
        display_name: u.displayName,
        password_hash: u.password === undefined ? null : await hashPassword(u.password),
        roles: JSON.stringify(u.roles),
        host_operator_id: u.hostOperatorId ?? null,
        updated_at: new Date(this.now()).toISOString(),
      } satisfies UserRow)
      .onConflict('user_id')
      .merge();
  }

  /** Every local user, enabled or not, by username. */
  async list(): Promise<LocalUser[]> {
    const rows = await this.db('users').orderBy('username').select<UserRow[]>('*');
    return rows.map((r) => ({ ...toActor(r), username: r.username, hostOperatorId: r.host_operator_id, disabled: !!r.disabled_at }));
  }

  /** A disabled user can neither log in nor be mapped from the host; their ops keep naming them. */
  async setDisabled(userId: string, disabled: boolean): Promise<void> {
    await this.db('users').where({ user_id: userId }).update({ disabled_at: disabled ? new Date(this.now()).toISOString() : null, updated_at: new Date(this.now()).toISOString() });
  }

  async setRoles(userId: string, roles: readonly Role[]): Promise<void> {
    await this.db('users').where({ user_id: userId }).update({ roles: JSON.stringify(roles), updated_at: new Date(this.now()).toISOString() });
  }

  async byHostOperator(operatorId: string): Promise<Actor | undefined> {
    const r = await this.db('users').where({ host_operator_id: operatorId }).whereNull('disabled_at').first<UserRow | undefined>();
    return r && toActor(r);
  }

  /** The user if `password` is theirs; undefined otherwise (unknown user or wrong password alike). */
  async authenticate(username: string, password: string): Promise<Actor | undefined> {
    const r = await this.db('users').where({ username }).whereNull('disabled_at').first<UserRow | undefined>();
    if (!r?.password_hash) return undefined;
    return (await verifyPassword(password, r.password_hash)) ? toActor(r) : undefined;
  }
}

/**
 * How long a menu action or a tap waits for the host's operator to be matched onto a CineCard user
 * (a local database read, normally a few milliseconds; longer only behind a long sync write).
 */
export const USER_MATCH_WAIT_MS = 5000;

/** The current CineCard user at this till, per the configured mode. */
@injectable()
export class UserSession implements Disposable {
  private actor: Actor | undefined;
  private readonly subscriptions = new DisposableStore();
  private readonly changed = new Emitter<Actor | undefined>();
  readonly onUserChanged = this.changed.event;
  /** Settles once the host operator (if any) has been looked up. */
  readonly ready: Promise<void>;
  /** The host operator id the latest match was started for (`null`: nobody), and that match. */
  private matching: { readonly operatorId: string | null; readonly done: Promise<void> } | undefined;
  /** Bumped by every match started: only the latest one sets the user. */
  private generation = 0;
  private disposed = false;

  readonly mode: UserMode;

  constructor(
    @inject(PluginConfigToken) config: Pick<PluginConfig, 'userMode'>,
    @inject(LocalUsersToken) private readonly users: LocalUsers,
    @inject(HostSession) private readonly host: HostSession,
  ) {
    const mode = (this.mode = config.userMode);
    this.subscriptions.add(this.changed);
    if (mode === 'host_operator') {
      this.subscriptions.add(host.onOperatorChanged((op) => void this.match(op)));
      this.ready = this.match(host.operator);
    } else {
      this.ready = Promise.resolve();
    }
  }

  /** The user as last matched; right after a sign-in it may still be the one before (see {@link settled}). */
  get current(): Actor | undefined {
    return this.actor;
  }

  /**
   * The user now at the till, once the host's current operator has been matched onto a CineCard user:
   * waits for a match in flight (at most {@link USER_MATCH_WAIT_MS}), and starts one when the host's
   * operator changed without (yet) telling. What a menu action or a tap acts as.
   */
  async settled(timeoutMs = USER_MATCH_WAIT_MS): Promise<Actor | undefined> {
    if (this.mode === 'host_operator' && !this.disposed) {
      const op = this.host.operator;
      const done = this.matching?.operatorId === (op?.id ?? null) ? this.matching.done : this.match(op);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    return this.actor;
  }

  /** Matches the host's operator again (a local user was added or changed). */
  rematch(): Promise<void> {
    return this.mode === 'host_operator' && !this.disposed ? this.match(this.host.operator) : Promise.resolve();
  }

  /** Resolves when no match is in flight (dispose waits for it before closing the database). */
  async idle(): Promise<void> {
    while (this.matching) {
      const { done } = this.matching;
      await done;
      if (this.matching?.done === done) return;
    }
  }

  /** `plugin_login` mode: logs in; resolves with the user, or undefined for a wrong name or password. */
  async login(username: string, password: string): Promise<Actor | undefined> {
    if (this.mode !== 'plugin_login') throw new Error('users come from the host operator in this mode; there is no plugin login');
    const actor = await this.users.authenticate(username, password);
    if (actor) this.set(actor);
    return actor;
  }

  logout(): void {
    if (this.mode === 'plugin_login') this.set(undefined);
  }

  private match(op: HostOperator | undefined): Promise<void> {
    const generation = ++this.generation;
    const done = (async () => {
      let actor: Actor | undefined;
      try {
        actor = op ? await this.users.byHostOperator(op.id) : undefined;
      } catch {
        actor = undefined; // the store is gone (disposed) or failed: nobody may act
      }
      if (generation === this.generation && !this.disposed) this.set(actor);
    })();
    this.matching = { operatorId: op?.id ?? null, done };
    return done;
  }

  private set(actor: Actor | undefined): void {
    this.actor = actor;
    this.changed.fire(actor);
  }

  dispose(): void {
    this.disposed = true;
    this.subscriptions.dispose();
  }
}
