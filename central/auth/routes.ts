/**
 * Logins. A user logs in with username and password — a cinema user on a terminal of its cinema
 * (the terminal's token in `Authorization`). Failed logins lock the account after
 * `login.maxFailedAttempts`; every credential endpoint is rate limited per client address.
 */
import { z } from 'zod';
import type { components } from '../client/schema.ts';
import { CentralError, defineMessages } from '../errors.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { isoTime } from '../store/ids.ts';
import { TerminalStore } from '../terminals/terminal-store.ts';
import { UserStore, type UserRecord } from '../users/user-store.ts';
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { isHqRole } from './permissions.ts';
import { sessionView, type Principal } from './principal.ts';
import { secretMatches } from './secrets.ts';
import { RefreshTokens, type IssuedRefreshToken } from './refresh-tokens.ts';

type S = components['schemas'];

export const authMessages = defineMessages({
  credentials_invalid: {
    type: 'unauthorized',
    en: 'The username or password is wrong.',
    'zh-CN': '用户名或密码错误。',
  },
  account_locked: {
    type: 'unauthorized',
    en: 'This account is locked after too many failed logins until {until}; an administrator can unlock it sooner.',
    'zh-CN': '登录失败次数过多，此账户已锁定至 {until}；管理员可提前解锁。',
  },
  account_disabled: {
    type: 'unauthorized',
    en: 'This account is disabled; ask an administrator.',
    'zh-CN': '此账户已停用，请联系管理员。',
  },
  login_needs_cinema_terminal: {
    type: 'forbidden',
    en: 'Cinema staff log in on a terminal of their own cinema; send that terminal\'s token with the login.',
    'zh-CN': '影院员工须在本影院的终端上登录；登录时请附带该终端的令牌。',
  },
  login_on_user_token: {
    type: 'invalid_data',
    en: 'Log in with no token or with a terminal token, not with another user\'s token.',
    'zh-CN': '登录时不带令牌或带终端令牌，不能使用其他用户的令牌。',
  },
  refresh_token_invalid: {
    type: 'unauthorized',
    en: 'This session has ended (logged out, expired or replaced); log in again.',
    'zh-CN': '此登录会话已结束（已退出、已过期或已被替换），请重新登录。',
  },
  refresh_token_reused: {
    type: 'unauthorized',
    en: 'This refresh token was already used, so the session has been ended for safety; log in again.',
    'zh-CN': '此刷新令牌已被使用过，为安全起见会话已结束，请重新登录。',
  },
  password_needs_user: {
    type: 'forbidden',
    en: 'Only a logged-in user has a password to change; a terminal token has none.',
    'zh-CN': '只有已登录的用户才能修改密码；终端令牌没有密码。',
  },
  current_password_wrong: {
    type: 'unauthorized',
    en: 'The current password is wrong.',
    'zh-CN': '当前密码错误。',
  },
  password_unchanged: {
    type: 'invalid_data',
    en: 'The new password must differ from the current one.',
    'zh-CN': '新密码不能与当前密码相同。',
  },
  terminal_credentials_invalid: {
    type: 'unauthorized',
    en: 'The terminal id or secret is wrong, or the terminal has been revoked; enrol it again.',
    'zh-CN': '终端编号或密钥错误，或终端已被吊销；请重新注册终端。',
  },
});

export const LoginRequest = specSchema<S['LoginRequest']>()(
  z.strictObject({
    // No user name holds a control character (they are made with `text`); PostgreSQL refuses NUL in a lookup.
    username: text(1, 64),
    password: z.string().min(1, 'must not be empty').max(256, 'must have at most 256 characters'),
  }),
);

export const PasswordChange = specSchema<S['PasswordChange']>()(
  z.strictObject({
    currentPassword: z.string().min(1, 'must not be empty').max(256, 'must have at most 256 characters'),
    newPassword: z.string().min(10, 'must have at least 10 characters').max(256, 'must have at most 256 characters'),
  }),
);

export const RefreshRequest = specSchema<S['RefreshRequest']>()(
  z.strictObject({ refreshToken: z.string().min(1, 'must not be empty').max(256, 'must have at most 256 characters') }),
);

export const TerminalTokenRequest = specSchema<S['TerminalTokenRequest']>()(
  z.strictObject({ terminalId: id, secret: z.string().min(1, 'must not be empty').max(256, 'must have at most 256 characters') }),
);

export const authModule: CentralModule = {
  name: 'auth',
  routes: ({ db, clock, audit, config, tokens, authenticator }) => {
    const users = new UserStore(db);
    const terminals = new TerminalStore(db);
    const refreshTokens = new RefreshTokens(db, clock, config.refreshTokenTtlSeconds);
    const accessToken = (token: string, session: S['Session'], refresh: IssuedRefreshToken | null): S['AccessToken'] => ({
      accessToken: token,
      tokenType: 'Bearer',
      expiresIn: tokens.ttlSeconds,
      refreshToken: refresh?.token ?? null,
      refreshExpiresAt: refresh?.expiresAt ?? null,
      session,
    });
    /** Counts a wrong password; the last allowed one locks the account (and is audited). */
    async function countFailure(user: UserRecord, actor: Principal | null, now: Date): Promise<void> {
      const failures = await users.countFailedLogin(user.id);
      if (failures < config.login.maxFailedAttempts) return;
      const until = isoTime(new Date(now.getTime() + config.login.lockoutSeconds * 1000));
      await db.transaction(async (trx) => {
        await users.update(trx, user.id, { failedLogins: 0, lockedUntil: until, updatedAt: isoTime(now) });
        await audit.record(trx, actor, {
          action: 'user.lock',
          targetType: 'user',
          targetId: user.id,
          cinemaId: user.cinemaId,
          details: { failedAttempts: failures, until },
        });
      });
    }

    return [
      defineRoute({
        path: '/v1/auth/login',
        method: 'post',
        permission: 'public',
        rateLimited: true,
        body: LoginRequest,
        handler: async ({ body }, { principal }) => {
          if (principal && principal.kind !== 'terminal') throw new CentralError(authMessages.login_on_user_token);
          const terminal = principal?.terminal ?? null;
          const user = await users.findByUsername(body.username.toLowerCase());
          if (!user) {
            await verifyPassword(body.password, await decoyPasswordHash);
            throw new CentralError(authMessages.credentials_invalid);
          }
          const now = clock.now();
          if (user.lockedUntil !== null && user.lockedUntil > isoTime(now)) {
            throw new CentralError(authMessages.account_locked, { until: user.lockedUntil });
          }
          if (!(await verifyPassword(body.password, user.passwordHash))) {
            await countFailure(user, principal, now);
            throw new CentralError(authMessages.credentials_invalid);
          }
          if (user.disabledAt !== null) throw new CentralError(authMessages.account_disabled);
          const hq = user.roles.every(isHqRole);
          if (!hq && terminal?.cinemaId !== user.cinemaId) throw new CentralError(authMessages.login_needs_cinema_terminal);
          const refresh = await db.transaction(async (trx) => {
            if (user.failedLogins > 0 || user.lockedUntil !== null) {
              await users.update(trx, user.id, { failedLogins: 0, lockedUntil: null, updatedAt: isoTime(now) });
            }
            return refreshTokens.start(trx, user.id, terminal?.id ?? null);
          });
          const fresh = { ...user, failedLogins: 0, lockedUntil: null };
          const token = await tokens.issue({ kind: 'user', userId: user.id, terminalId: terminal?.id ?? null });
          return { status: 200, body: accessToken(token, sessionView(authenticator.userPrincipal(fresh, terminal), now), refresh) };
        },
      }),
      defineRoute({
        path: '/v1/auth/terminal-token',
        method: 'post',
        permission: 'public',
        rateLimited: true,
        body: TerminalTokenRequest,
        handler: async ({ body }) => {
          const terminal = await terminals.findById(body.terminalId);
          if (!terminal || terminal.revokedAt !== null || !secretMatches(body.secret, terminal.secretHash)) {
            throw new CentralError(authMessages.terminal_credentials_invalid);
          }
          const token = await tokens.issue({ kind: 'terminal', terminalId: terminal.id });
          return { status: 200, body: accessToken(token, sessionView(authenticator.terminalPrincipal(terminal), clock.now()), null) };
        },
      }),
      defineRoute({
        path: '/v1/auth/refresh',
        method: 'post',
        permission: 'public',
        rateLimited: true,
        body: RefreshRequest,
        handler: async ({ body }, { principal }) => {
          const spent = await refreshTokens.spend(body.refreshToken);
          if (spent.outcome === 'reused') {
            await audit.record(db, principal, {
              action: 'session.refresh_reused',
              targetType: 'user',
              targetId: spent.userId,
              cinemaId: null,
              details: { sessionId: spent.familyId },
            });
            throw new CentralError(authMessages.refresh_token_reused);
          }
          if (spent.outcome !== 'ok') throw new CentralError(authMessages.refresh_token_invalid);
          const token = await tokens.issue({ kind: 'user', userId: spent.userId, terminalId: spent.terminalId });
          // The same checks as any request: a disabled user or a revoked terminal gets no new token.
          const session = await authenticator.authenticate(`Bearer ${token}`);
          return { status: 200, body: accessToken(token, sessionView(session, clock.now()), spent.next) };
        },
      }),
      defineRoute({
        path: '/v1/auth/logout',
        method: 'post',
        permission: 'public',
        body: RefreshRequest,
        handler: async ({ body }) => {
          await refreshTokens.end(body.refreshToken);
          return { status: 204 };
        },
      }),
      defineRoute({
        path: '/v1/auth/password',
        method: 'post',
        permission: 'authenticated',
        rateLimited: true,
        body: PasswordChange,
        handler: async ({ body }, { principal }) => {
          const user = principal.user;
          if (!user) throw new CentralError(authMessages.password_needs_user);
          const now = clock.now();
          if (!(await verifyPassword(body.currentPassword, user.passwordHash))) {
            await countFailure(user, principal, now);
            throw new CentralError(authMessages.current_password_wrong);
          }
          if (body.newPassword === body.currentPassword) throw new CentralError(authMessages.password_unchanged);
          const passwordHash = await hashPassword(body.newPassword);
          await db.transaction(async (trx) => {
            await users.update(trx, user.id, { passwordHash, failedLogins: 0, updatedAt: isoTime(now) });
            await audit.record(trx, principal, {
              action: 'user.password.change',
              targetType: 'user',
              targetId: user.id,
              cinemaId: user.cinemaId,
            });
          });
          return { status: 204 };
        },
      }),
      defineRoute({
        path: '/v1/auth/session',
        method: 'get',
        permission: 'authenticated',
        handler: async (_input, { principal }) => ({ status: 200, body: sessionView(principal, clock.now()) }),
      }),
    ];
  },
};
