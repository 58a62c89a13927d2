/**
 * The reference POS's server: one till. It is the plugin's host — it activates CineCard with
 * adapters it implements (`BrowserUi`, `TillSession`, `Basket`, a reader: the card panel's emulated
 * one, or a real PC/SC reader) — and serves the till's page, talking to it over one WebSocket:
 * the page sends what the cashier does, the server pushes the whole till state after every change.
 */
import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import contentDisposition from 'content-disposition';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { CardReader } from '../../adapters/card-reader.ts';
import type { Clock } from '../../adapters/clock.ts';
import type { CardKeys } from '../../adapters/keys/card-keys.ts';
import { demoCardKeys } from '../../adapters/keys/demo-card-keys.ts';
import { DisposableStore } from '../../adapters/lifecycle.ts';
import { silentLogger, type Logger } from '../../adapters/logger.ts';
import { PcscCardReader } from '../../adapters/pcsc/pcsc-card-reader.ts';
import { activate, type PluginHandle } from '../../plugin/activate.ts';
import type { PluginConfigInput } from '../../plugin/config.ts';
import { Basket } from './basket.ts';
import { BrowserUi } from './browser-ui.ts';
import { CardPanel, type CardWallet } from './card-panel.ts';
import { catalogueFor, type Localized } from './catalogue.ts';
import { TillSession, type TillCashier } from './till-session.ts';
import { pluginSyncSource, SyncIndicator, type SyncSource } from './sync-indicator.ts';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

export interface PosOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly cinemaName: Localized;
  /** The till's own id (shown; informational to the plugin). */
  readonly stationId: string;
  /** The plugin's configuration (its database, the enrolled terminal, central's URL …). */
  readonly plugin: PluginConfigInput;
  readonly cashiers: readonly TillCashier[];
  /** The demo card panel (cards shared by every till of this process), or a real PC/SC reader. */
  readonly reader: { readonly kind: 'panel'; readonly wallet: CardWallet } | { readonly kind: 'pcsc' };
  /** Default: the published DEMO keys (demo cards only). */
  readonly cardKeys?: CardKeys;
  /** Called once the plugin is active: the host's chance to prepare it (the demo's local users); a sync source replaces the plugin's own. */
  readonly prepare?: (plugin: PluginHandle) => Promise<SyncSource | undefined>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface RunningPos {
  readonly url: string;
  readonly plugin: PluginHandle;
  readonly basket: Basket;
  readonly session: TillSession;
  readonly ui: BrowserUi;
  readonly panel: CardPanel | undefined;
  close(): Promise<void>;
}

const FieldValue = z.union([z.string().max(2000), z.number(), z.null()]);
/** What a page may send. */
const PageMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('login'), login: z.string().max(100), password: z.string().max(200) }),
  z.object({ t: z.literal('logout') }),
  z.object({ t: z.literal('locale'), locale: z.enum(['zh-CN', 'en']) }),
  z.object({ t: z.literal('add-ticket'), showtimeId: z.string().max(50), ticketType: z.string().max(50) }),
  z.object({ t: z.literal('add-concession'), sku: z.string().max(50) }),
  z.object({ t: z.literal('remove-line'), lineId: z.string().max(100) }),
  z.object({ t: z.literal('pay-cash') }),
  z.object({ t: z.literal('new-sale') }),
  z.object({ t: z.literal('menu'), id: z.string().max(100) }),
  z.object({ t: z.literal('press'), viewId: z.string().max(100), action: z.string().max(100), values: z.record(z.string().max(100), FieldValue) }),
  z.object({ t: z.literal('dismiss'), viewId: z.string().max(100) }),
  z.object({ t: z.literal('card-tap'), cardNo: z.string().max(20) }),
  z.object({ t: z.literal('card-remove') }),
  z.object({ t: z.literal('card-tear') }),
]);
type PageMessage = z.infer<typeof PageMessage>;

export async function startPos(options: PosOptions): Promise<RunningPos> {
  const logger = (options.logger ?? silentLogger).child({ till: options.stationId });
  const clock = options.clock ?? { now: () => Date.now() };
  const subscriptions = new DisposableStore();
  const ui = subscriptions.add(new BrowserUi(logger));
  const session = subscriptions.add(new TillSession(options.stationId, options.cashiers));
  const basket = subscriptions.add(new Basket(() => catalogueFor(clock.now())));
  const panel = options.reader.kind === 'panel' ? new CardPanel(`${options.stationId} 读卡器`, options.reader.wallet) : undefined;
  const cardReader: CardReader = panel ? panel.reader : new PcscCardReader({ log: (message, detail) => logger.warn(detail ?? {}, message) });

  const plugin = await activate(
    { cardReader, cardKeys: options.cardKeys ?? demoCardKeys(), ui, session, sale: basket, clock, logger },
    options.plugin,
  );
  const sync = new SyncIndicator(plugin, (await options.prepare?.(plugin)) ?? pluginSyncSource(plugin));

  const app: FastifyInstance = Fastify({ logger: false });
  await app.register(fastifyStatic, { root: publicDir, index: 'index.html' });
  app.get('/healthz', async () => ({ ok: true }));
  // A file the plugin offered (a report export), once: the page was told this URL (message `file`).
  app.get<{ Params: { token: string } }>('/files/:token', async (req, reply) => {
    const file = /^[0-9a-f]{32}$/.test(req.params.token) ? ui.takeFile(req.params.token) : undefined;
    if (!file) return reply.code(404).send({ error: 'no such file, or it was downloaded already' });
    return reply
      .header('content-type', file.mimeType)
      .header('content-disposition', contentDisposition(file.name))
      .header('cache-control', 'no-store')
      .send(Buffer.from(file.data));
  });

  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  app.server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const state = () => ({
    t: 'state' as const,
    stationId: options.stationId,
    cinemaName: options.cinemaName,
    terminalId: plugin.config.terminal.terminalId,
    locale: session.locale,
    operator: session.operator ?? null,
    catalogue: catalogueFor(clock.now()),
    basket: basket.state,
    ...ui.snapshot(),
    reader: panel
      ? { kind: 'panel' as const, name: panel.name, cardNo: panel.cardNo ?? null, tearArmed: panel.tearArmed, cards: options.reader.kind === 'panel' ? options.reader.wallet.list() : [] }
      : { kind: 'pcsc' as const, name: cardReader.readers.join(', ') },
    sync: sync.state,
  });

  let pushScheduled = false;
  const push = () => {
    if (pushScheduled) return;
    pushScheduled = true;
    setImmediate(() => {
      pushScheduled = false;
      const body = JSON.stringify(state());
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(body);
    });
  };
  subscriptions.add(ui.onChanged(push));
  subscriptions.add(basket.onChanged(push));
  subscriptions.add(session.onOperatorChanged(push));
  subscriptions.add(session.onLocaleChanged(push));
  subscriptions.add(sync.onChanged(push));
  subscriptions.add(ui.onFileOffered((offer) => {
    const body = JSON.stringify({ t: 'file', url: `/files/${offer.token}`, name: offer.name });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(body);
  }));
  if (options.reader.kind === 'panel') subscriptions.add(options.reader.wallet.onChanged(push));

  const handle = (ws: WebSocket, m: PageMessage) => {
    // Before a cashier logs in, the till does nothing but log in and switch language.
    if (!session.operator && m.t !== 'login' && m.t !== 'locale') return;
    switch (m.t) {
      case 'login':
        if (!session.login(m.login, m.password)) ws.send(JSON.stringify({ t: 'login-failed' }));
        return;
      case 'logout':
        if (!basket.current() || basket.newSale()) session.logout();
        return;
      case 'locale': return session.setLocale(m.locale);
      case 'add-ticket': return basket.addTicket(m.showtimeId, m.ticketType);
      case 'add-concession': return basket.addConcession(m.sku);
      case 'remove-line': return basket.removeLine(m.lineId);
      case 'pay-cash': return basket.payCash();
      case 'new-sale': return void basket.newSale();
      case 'menu': return ui.runMenu(m.id);
      case 'press': return ui.press(m.viewId, m.action, m.values);
      case 'dismiss': return ui.dismiss(m.viewId);
      case 'card-tap': return void panel?.tap(m.cardNo);
      case 'card-remove': return panel?.remove();
      case 'card-tear': return void panel?.armTear();
    }
  };

  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        return;
      }
      const m = PageMessage.safeParse(parsed);
      if (!m.success) return void logger.warn({ issues: m.error.issues.length }, 'a page sent a message the till does not know');
      handle(ws, m.data);
    });
    ws.send(JSON.stringify(state()));
  });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}/`;
  logger.info({ url }, 'till listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    plugin,
    basket,
    session,
    ui,
    panel,
    close: () =>
      (closing ??= (async () => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        await app.close();
        await sync.dispose();
        await plugin.dispose(); // disposes the reader (the panel's card is saved on removal)
        panel?.dispose();
        subscriptions.dispose();
      })()),
  };
}
