/**
 * The sync socket (DESIGN §4): terminals connect to `/v1/sync/ws` on central's HTTP server with
 * their token and receive pokes `{head, blacklistVersion}` — hints to pull.
 *
 * - Pokes are coalesced: a burst of commits sends one poke with the latest position.
 * - When the blacklist moved by a few rows, the poke is preceded by those rows themselves (one read
 *   of the change log for all sockets, {@link BlacklistReader}): a till refuses the card without
 *   waiting for its pull, which a thousand tills would otherwise make at once.
 * - A slow reader (more than `maxBufferedBytes` queued) is skipped rather than buffered without
 *   bound; its next poke (or its 60 s pull) carries the latest head, so nothing is lost.
 * - Ping/pong every `pingIntervalMs`; a peer that missed the last pong is terminated.
 * - Several instances on one PostgreSQL: every change-log commit NOTIFYs `cinecard_sync`; each
 *   instance LISTENs on a dedicated connection (never a pooled one) and pokes its own sockets.
 *   A dropped listener reconnects; pokes missed meanwhile cost latency only.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { SYNC_SOCKET_PATH, SyncBlacklistDelta, type SyncBlacklistItem, type SyncPoke, type SyncWelcome } from '../client/sync-messages.ts';
import type { Platform } from '../platform.ts';
import { requirePermission } from '../auth/principal.ts';
import { SYNC_CHANNEL, type LogPosition } from './change-log.ts';

export interface SyncHubOptions {
  readonly pingIntervalMs: number;
  readonly maxBufferedBytes: number;
}

/**
 * Every blacklist-stream row of the change log with `after < id ≤ upTo`, or undefined when there
 * are too many to send (or a row is not for every terminal): those terminals pull instead.
 */
export type BlacklistReader = (after: number, upTo: number) => Promise<SyncBlacklistItem[] | undefined>;

interface Peer {
  readonly ws: WebSocket;
  alive: boolean;
}

export class SyncHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly peers = new Set<Peer>();
  private position: LogPosition = { head: 0, blacklistVersion: 0 };
  /** The position the last poke announced (the blacklist rows up to it were offered then). */
  private announced: LogPosition;
  /** The change log's id, read at start: a restore happens with every instance stopped (`spec/operations.md` §2). */
  private readonly logId: string | undefined;
  private flushScheduled = false;
  private closed = false;
  private readonly pingTimer: NodeJS.Timeout;
  /** Pokes not sent because the peer's buffer was full (for tests and health). */
  skipped = 0;

  constructor(
    private readonly platform: Platform,
    private readonly options: SyncHubOptions,
    initial: LogPosition & { logId?: string },
    private readonly readBlacklist?: BlacklistReader,
  ) {
    this.position = { head: initial.head, blacklistVersion: initial.blacklistVersion };
    this.logId = initial.logId;
    this.announced = this.position;
    this.pingTimer = setInterval(() => this.heartbeat(), options.pingIntervalMs);
    this.pingTimer.unref();
  }

  get connections(): number {
    return this.peers.size;
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(req, socket, head);
    });
  }

  /** The change log moved (a local commit or another instance's NOTIFY). */
  poke(position: LogPosition): void {
    if (position.head <= this.position.head && position.blacklistVersion <= this.position.blacklistVersion) return;
    this.position = {
      head: Math.max(this.position.head, position.head),
      blacklistVersion: Math.max(this.position.blacklistVersion, position.blacklistVersion),
    };
    this.scheduleFlush();
  }

  /** One flush at a time (it may read the blacklist rows); pokes meanwhile go out after it. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      void this.flush().finally(() => {
        this.flushScheduled = false;
        const { head, blacklistVersion } = this.position;
        if (!this.closed && (head > this.announced.head || blacklistVersion > this.announced.blacklistVersion)) this.scheduleFlush();
      });
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const peer of this.peers) peer.ws.terminate();
    this.peers.clear();
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== SYNC_SOCKET_PATH) {
      socket.destroy();
      return;
    }
    try {
      const principal = await this.platform.authenticator.authenticate(req.headers.authorization);
      requirePermission(principal, 'sync.pull');
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws));
  }

  /** Takes an authenticated socket into the hub (the upgrade's, or a test's stand-in). */
  adopt(ws: WebSocket): void {
    const peer: Peer = { ws, alive: true };
    this.peers.add(peer);
    ws.on('pong', () => (peer.alive = true));
    ws.on('close', () => this.peers.delete(peer));
    ws.on('error', () => ws.terminate());
    ws.on('message', () => {}); // terminals send nothing; ignore anything they do
    const welcome: SyncWelcome = { type: 'welcome', ...this.position, serverTime: new Date().toISOString(), ...(this.logId ? { logId: this.logId } : {}) };
    ws.send(JSON.stringify(welcome));
  }

  private async flush(): Promise<void> {
    const position = this.position;
    const after = this.announced.blacklistVersion;
    const frames: string[] = [];
    if (this.readBlacklist && position.blacklistVersion > after) {
      const entries = await this.readBlacklist(after, position.blacklistVersion).catch(() => undefined);
      const delta = entries && SyncBlacklistDelta.safeParse({ type: 'blacklist', after, upTo: position.blacklistVersion, entries });
      if (delta?.success) frames.push(JSON.stringify(delta.data));
    }
    const poke: SyncPoke = { type: 'poke', ...position };
    frames.push(JSON.stringify(poke));
    this.announced = position;
    if (this.closed) return;
    for (const peer of this.peers) {
      if (peer.ws.readyState !== peer.ws.OPEN) continue;
      if (peer.ws.bufferedAmount > this.options.maxBufferedBytes) {
        this.skipped++;
        continue;
      }
      for (const frame of frames) peer.ws.send(frame);
    }
  }

  private heartbeat(): void {
    for (const peer of this.peers) {
      if (!peer.alive) {
        peer.ws.terminate();
        this.peers.delete(peer);
        continue;
      }
      peer.alive = false;
      peer.ws.ping();
    }
  }
}

/** LISTEN on a dedicated connection, reconnecting after a drop. */
export class PokeListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly onPosition: (position: LogPosition) => void,
    private readonly log: Logger,
    private readonly retryMs = 1000,
  ) {}

  async start(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url });
    this.client = client;
    const again = () => {
      if (this.stopped || this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => {});
      this.retry = setTimeout(() => void this.start().catch(() => again()), this.retryMs);
      this.retry.unref();
    };
    client.on('error', (error) => {
      this.log.warn({ err: error }, 'sync LISTEN connection failed; reconnecting');
      again();
    });
    client.on('end', again);
    client.on('notification', (msg) => {
      try {
        const p = JSON.parse(msg.payload ?? '') as LogPosition;
        if (Number.isFinite(p.head) && Number.isFinite(p.blacklistVersion)) this.onPosition(p);
      } catch {
        // not ours
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${SYNC_CHANNEL}`);
    } catch (error) {
      this.log.warn({ err: error }, 'sync LISTEN connection could not start; retrying');
      again();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
