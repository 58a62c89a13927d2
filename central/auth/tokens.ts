/** Short-lived access tokens: JWT, HS256, signed with the configured secret (jose). */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

const issuer = 'cinecard-central';
const audience = 'cinecard';

/** What a token says: a user (maybe on a terminal) or a terminal by itself. */
export type TokenClaims =
  | { readonly kind: 'user'; readonly userId: string; readonly terminalId: string | null }
  | { readonly kind: 'terminal'; readonly terminalId: string };

export class TokenService {
  /** Imported once: jose would import raw key bytes again on every sign and verify. */
  private readonly key: KeyObject;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  async issue(claims: TokenClaims): Promise<string> {
    const jwt =
      claims.kind === 'user'
        ? new SignJWT({ typ: 'user', ...(claims.terminalId ? { trm: claims.terminalId } : {}) }).setSubject(claims.userId)
        : new SignJWT({ typ: 'terminal' }).setSubject(claims.terminalId);
    return jwt
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** The token's claims, or undefined when it is malformed, forged or expired. */
  async verify(token: string): Promise<TokenClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer, audience, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string') return undefined;
      if (payload['typ'] === 'terminal') return { kind: 'terminal', terminalId: payload.sub };
      if (payload['typ'] === 'user') {
        const trm = payload['trm'];
        return { kind: 'user', userId: payload.sub, terminalId: typeof trm === 'string' ? trm : null };
      }
      return undefined;
    } catch {
      return undefined;
    }
  }
}
