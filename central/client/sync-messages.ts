/**
 * The sync WebSocket's messages (`spec/sync.md` § Pokes), the wire contract both central and the
 * plugin import. The socket carries hints only: a poke says how far the change log has got; the
 * terminal then pulls over HTTP. A lost poke costs latency, never data (terminals also pull every
 * 60 s). Terminals send nothing on it; liveness is WebSocket ping/pong.
 */
import { z } from 'zod';

/** The path of the sync socket on central's HTTP server; authenticate with `Authorization: Bearer <terminal token>`. */
export const SYNC_SOCKET_PATH = '/v1/sync/ws';

const position = z.number().int().min(0);

/** First message after the upgrade. */
export const SyncWelcome = z.strictObject({
  type: z.literal('welcome'),
  head: position,
  blacklistVersion: position,
  serverTime: z.string(),
});
export type SyncWelcome = z.infer<typeof SyncWelcome>;

/** The change log moved: pull if `head` is past your cursor or `blacklistVersion` past your blacklist cursor. */
export const SyncPoke = z.strictObject({
  type: z.literal('poke'),
  head: position,
  blacklistVersion: position,
});
export type SyncPoke = z.infer<typeof SyncPoke>;

export const SyncServerMessage = z.discriminatedUnion('type', [SyncWelcome, SyncPoke]);
export type SyncServerMessage = z.infer<typeof SyncServerMessage>;

/** Parses one text frame; undefined for anything that is not a known message (ignore it). */
export function parseSyncMessage(data: string): SyncServerMessage | undefined {
  try {
    const parsed = SyncServerMessage.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
