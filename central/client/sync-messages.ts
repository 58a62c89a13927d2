/**
 * The sync WebSocket's messages (`spec/sync.md` § Pokes), the wire contract both central and the
 * plugin import. The socket carries hints: a poke says how far the change log has got; the
 * terminal then pulls over HTTP. A lost poke costs latency, never data (terminals also pull every
 * 60 s). A small blacklist change also travels whole ({@link SyncBlacklistDelta}), so a till can
 * refuse the card before its pull comes back; the pull stays the source of truth. Terminals send
 * nothing on it; liveness is WebSocket ping/pong.
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
  /** The change log's id (`spec/sync.md` § Central restored from a backup); a terminal that stored another one pulls (and resets). */
  logId: z.string().max(64).optional(),
});
export type SyncWelcome = z.infer<typeof SyncWelcome>;

/** The change log moved: pull if `head` is past your cursor or `blacklistVersion` past your blacklist cursor. */
export const SyncPoke = z.strictObject({
  type: z.literal('poke'),
  head: position,
  blacklistVersion: position,
});
export type SyncPoke = z.infer<typeof SyncPoke>;

/** A blacklist-stream row of the change log: its id and the entry (what a pull's `blacklist` item holds). */
export const SyncBlacklistItem = z.strictObject({
  id: position,
  cardNo: z.string().min(1).max(32),
  listed: z.boolean(),
  reason: z.string().max(500).nullable(),
  at: z.string().max(40),
});
export type SyncBlacklistItem = z.infer<typeof SyncBlacklistItem>;

/**
 * Every blacklist-stream row with `after < id ≤ upTo`, sent just before the poke that announces
 * them when they are few. A terminal whose blacklist cursor is at least `after` (and below `upTo`)
 * applies the entries past its cursor and moves that cursor to `upTo`, in one local transaction;
 * any other terminal ignores the message and pulls as the poke says. Terminals that do not know
 * this message type ignore it too.
 */
export const SyncBlacklistDelta = z.strictObject({
  type: z.literal('blacklist'),
  after: position,
  upTo: position,
  entries: z.array(SyncBlacklistItem).max(100),
});
export type SyncBlacklistDelta = z.infer<typeof SyncBlacklistDelta>;

export const SyncServerMessage = z.discriminatedUnion('type', [SyncWelcome, SyncPoke, SyncBlacklistDelta]);
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
