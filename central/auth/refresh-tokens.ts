/**
 * Login sessions that outlive the short access tokens: a refresh token per step, used once, stored
 * hashed. Reusing a spent token means it was copied, so the whole session (family) is revoked.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { type Clock, isoTime, newId } from '../store/ids.ts';
import { sha256 } from './secrets.ts';

interface RefreshTokenRow {
  id: string;
  token_hash: string;
  family_id: string;
  user_id: string;
  terminal_id: string | null;
  issued_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

export interface IssuedRefreshToken {
  readonly token: string;
  readonly expiresAt: string;
}

/** What spending a refresh token gave. */
export type Spent =
  | { readonly outcome: 'ok'; readonly userId: string; readonly terminalId: string | null; readonly next: IssuedRefreshToken }
  | { readonly outcome: 'unknown' | 'expired' | 'revoked' }
  | { readonly outcome: 'reused'; readonly userId: string; readonly familyId: string };

export class RefreshTokens {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  /** Starts a login session. */
  async start(trx: Knex, userId: string, terminalId: string | null): Promise<IssuedRefreshToken> {
    const expiresAt = isoTime(new Date(this.clock.now().getTime() + this.ttlSeconds * 1000));
    return this.insert(trx, newId(), userId, terminalId, expiresAt);
  }

  /** Spends a token and issues its successor (same session end), in one transaction. */
  async spend(token: string): Promise<Spent> {
    const now = isoTime(this.clock.now());
    return this.db.transaction(async (trx) => {
      const row = await trx<RefreshTokenRow>('refresh_tokens').where({ token_hash: sha256(token) }).first();
      if (!row) return { outcome: 'unknown' } as const;
      if (row.revoked_at !== null) return { outcome: 'revoked' } as const;
      if (row.expires_at <= now) return { outcome: 'expired' } as const;
      const claimed = await trx<RefreshTokenRow>('refresh_tokens').where({ id: row.id }).whereNull('used_at').update({ used_at: now });
      if (claimed !== 1) {
        await this.revokeFamily(trx, row.family_id);
        return { outcome: 'reused', userId: row.user_id, familyId: row.family_id } as const;
      }
      const next = await this.insert(trx, row.family_id, row.user_id, row.terminal_id, row.expires_at);
      return { outcome: 'ok', userId: row.user_id, terminalId: row.terminal_id, next } as const;
    });
  }

  /** Ends the session the token belongs to; false when the token is unknown. */
  async end(token: string): Promise<boolean> {
    const row = await this.db<RefreshTokenRow>('refresh_tokens').where({ token_hash: sha256(token) }).first();
    if (!row) return false;
    await this.revokeFamily(this.db, row.family_id);
    return true;
  }

  private async revokeFamily(trx: Knex, familyId: string): Promise<void> {
    await trx<RefreshTokenRow>('refresh_tokens').where({ family_id: familyId }).whereNull('revoked_at').update({ revoked_at: isoTime(this.clock.now()) });
  }

  private async insert(trx: Knex, familyId: string, userId: string, terminalId: string | null, expiresAt: string): Promise<IssuedRefreshToken> {
    const token = randomBytes(32).toString('base64url');
    await trx<RefreshTokenRow>('refresh_tokens').insert({
      id: newId(),
      token_hash: sha256(token),
      family_id: familyId,
      user_id: userId,
      terminal_id: terminalId,
      issued_at: isoTime(this.clock.now()),
      expires_at: expiresAt,
      used_at: null,
      revoked_at: null,
    });
    return { token, expiresAt };
  }
}
