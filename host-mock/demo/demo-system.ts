/**
 * The whole demo on this machine: central (a child process, SQLite in `dataDir`), the demo chain
 * (made once), and the two cinemas' tills in this process sharing one set of demo cards — a card
 * carried from cinema A to cinema B is the same card. `npm start` and the browser tests use it.
 */
import { join } from 'node:path';
import type { PluginHandle } from '../../plugin/activate.ts';
import type { Logger } from '../../adapters/logger.ts';
import { CardWallet } from '../server/card-panel.ts';
import { startPos, type RunningPos } from '../server/pos-server.ts';
import { DEMO_CHAIN_ID, ensureDemoChain, type DemoChain, type DemoTerminal } from './demo-chain.ts';
import { ensureAdmin, startCentralProcess, type CentralProcess } from './central-process.ts';
import { DEMO_ADMIN } from './demo-chain.ts';

export interface DemoSystem {
  readonly central: CentralProcess;
  readonly chain: DemoChain;
  readonly wallet: CardWallet;
  readonly tills: readonly [RunningPos, RunningPos];
  stop(): Promise<void>;
}

export interface DemoOptions {
  readonly dataDir: string;
  /** Central's port (0: any free one). */
  readonly centralPort?: number;
  /** The two tills' ports (0: any free one). */
  readonly tillPorts?: readonly [number, number];
  /** Tills listen here; default 127.0.0.1. */
  readonly host?: string;
  readonly showCentralOutput?: boolean;
  /** `pcsc`: cinema A's till uses the PC/SC reader attached to this machine (B keeps the card panel). */
  readonly reader?: 'panel' | 'pcsc';
  readonly logger?: Logger;
}

/**
 * What the terminal needs before its first sale that sync does not bring: its users (the till's
 * cashiers mapped onto them — a till's own configuration) and the card types' names and prices.
 * The cinema's redemption rules, the cards and the blacklist come from central by sync.
 */
async function prepareTerminal(plugin: PluginHandle, terminal: DemoTerminal, chain: DemoChain): Promise<void> {
  for (const s of terminal.staff) {
    await plugin.users.put({ userId: `${terminal.terminalId}:${s.username}`, username: s.username, displayName: s.name, roles: s.roles, hostOperatorId: s.id });
  }
  for (const t of chain.cardTypes) await plugin.cardTypes.put({ code: t.code, cardTypeId: t.cardTypeId, name: t.name, pricePerUseFen: t.pricePerUseFen });
}

export async function startDemo(options: DemoOptions): Promise<DemoSystem> {
  ensureAdmin(options.dataDir, DEMO_ADMIN);
  const central = await startCentralProcess({ dataDir: options.dataDir, port: options.centralPort, inheritOutput: options.showCentralOutput });
  const started: RunningPos[] = [];
  try {
    const wallet = new CardWallet(join(options.dataDir, 'cards'));
    const chain = await ensureDemoChain(central.apiUrl, options.dataDir, wallet);
    for (const [i, terminal] of chain.terminals.entries()) {
      started.push(
        await startPos({
          host: options.host,
          port: options.tillPorts?.[i] ?? 0,
          cinemaName: terminal.cinemaName,
          stationId: terminal.stationId,
          cashiers: terminal.staff,
          reader: options.reader === 'pcsc' && i === 0 ? { kind: 'pcsc' } : { kind: 'panel', wallet },
          logger: options.logger,
          plugin: {
            dbFile: join(options.dataDir, `terminal-${terminal.stationId}.sqlite`),
            terminal: { terminalId: terminal.terminalId, cinemaId: terminal.cinemaId, cinemaCode: terminal.cinemaCode, terminalNumber: 1, chainId: DEMO_CHAIN_ID },
            userMode: 'host_operator',
            central: { urls: [central.apiUrl.replace(/\/v1\/?$/, '')], terminalSecret: terminal.secret },
          },
          prepare: async (plugin) => {
            await prepareTerminal(plugin, terminal, chain);
            return undefined;
          },
        }),
      );
    }
    const tills = [started[0]!, started[1]!] as const;
    return {
      central,
      chain,
      wallet,
      tills,
      stop: async () => {
        for (const t of tills) await t.close();
        wallet.saveAll();
        await central.stop();
      },
    };
  } catch (err) {
    for (const t of started) await t.close();
    await central.stop();
    throw err;
  }
}
