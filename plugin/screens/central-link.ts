/**
 * How a screen reaches central: through the generated typed client, when there is one. The link
 * holds the client authenticated for this terminal (and the user on it); whoever authenticates
 * (the sync module, an HQ-station login, a test) sets it with {@link CentralLink.connect}. Without a
 * client, or when central does not answer, a screen works from local data and says so.
 */
import { injectable } from 'tsyringe';
import { isApiError, type ApiError, type CentralClient, type Schemas } from '../../central/client/index.ts';

/** What a call to central came to. */
export type CentralAnswer<T> =
  | { readonly kind: 'ok'; readonly data: T }
  /** No client, no connection, or central unavailable (5xx): work locally, ops stay queued. */
  | { readonly kind: 'offline' }
  /** Central answered and said no (4xx): its message is in the error. */
  | { readonly kind: 'refused'; readonly error: ApiError };

interface FetchResult<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

@injectable()
export class CentralLink {
  private client: CentralClient | undefined;

  /** Sets the client to reach central with; `undefined` goes offline. */
  connect(client: CentralClient | undefined): void {
    this.client = client;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Runs one request; never rejects for the network or central's answer. */
  async call<T>(request: (client: CentralClient) => Promise<FetchResult<T>>): Promise<CentralAnswer<T>> {
    const client = this.client;
    if (!client) return { kind: 'offline' };
    let r: FetchResult<T>;
    try {
      r = await request(client);
    } catch {
      return { kind: 'offline' }; // connection refused, reset, DNS …
    }
    if (r.response.ok) return { kind: 'ok', data: r.data as T };
    if (r.response.status >= 500 || !isApiError(r.error)) return { kind: 'offline' };
    return { kind: 'refused', error: r.error };
  }
}

/**
 * A card change central records through its API: sync uploads the op too, but central applies a
 * sale, renewal or re-issue only when its registry recorded it online at that card seq, and acts on
 * blacklist changes only through the API — so a change made offline is kept and sent later.
 */
export type CardChange = { readonly cardNo: string } & (
  | { readonly path: '/v1/cards/{cardNo}/activate'; readonly body: Schemas['CardActivate'] }
  | { readonly path: '/v1/cards/{cardNo}/renew'; readonly body: Schemas['CardRenew'] }
  | { readonly path: '/v1/cards/{cardNo}/reissue'; readonly body: Schemas['CardReissue'] }
  | { readonly path: '/v1/cards/{cardNo}/top-ups'; readonly body: Schemas['CardTopUp'] }
  | { readonly path: '/v1/cards/{cardNo}/blacklist' | '/v1/cards/{cardNo}/unblacklist'; readonly body: Schemas['BlacklistChange'] }
  /** Rebuilding from the cards at an HQ station (a till's rebuild op is its record: sync uploads it). */
  | { readonly path: '/v1/rebuild/cards'; readonly body: Schemas['CardRebuild'] }
);

export function sendChange(link: CentralLink, change: CardChange): Promise<CentralAnswer<unknown>> {
  // One POST per path, each typed by the generated client; the union keeps body and path together.
  return link.call((c) => c.POST(change.path as '/v1/cards/{cardNo}/renew', { params: { path: { cardNo: change.cardNo } }, body: change.body as Schemas['CardRenew'] }));
}
