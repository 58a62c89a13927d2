/**
 * `npm start`: the whole demo on this machine. Starts the central service on a SQLite file in
 * ./data, makes the demo chain through central's API the first time (HQ admin, two cinemas with an
 * enrolled terminal each, two card types, a batch of made cards, redemption rules), and serves the
 * two cinemas' tills (the reference POS, host-mock/) in the browser. Stopping and starting again
 * keeps the data: the chain is made once, the cards' contents live in ./data/cards.
 *
 * Environment: CINECARD_DATA_DIR (default ./data), PORT (central, default 8480), POS_PORT_A /
 * POS_PORT_B (the tills, default 8481 / 8482), POS_HOST (default 127.0.0.1), CINECARD_READER=pcsc
 * (cinema A's till uses the PC/SC reader attached to this machine instead of the card panel).
 */
import 'reflect-metadata';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_ADMIN } from '../host-mock/demo/demo-chain.ts';
import { startDemo } from '../host-mock/demo/demo-system.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = resolve(process.env['CINECARD_DATA_DIR'] ?? join(root, 'data'));
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

try {
  const demo = await startDemo({
    dataDir,
    centralPort: port('PORT', 8480),
    tillPorts: [port('POS_PORT_A', 8481), port('POS_PORT_B', 8482)],
    host: process.env['POS_HOST'] ?? '127.0.0.1',
    showCentralOutput: true,
    reader: process.env['CINECARD_READER'] === 'pcsc' ? 'pcsc' : 'panel',
  });
  const [a, b] = demo.chain.terminals;
  const staff = (t: typeof a) => t.staff.map((s) => `${s.login} / ${s.password} (${s.name}, ${s.roles.join('+')})`).join('; ');
  console.log(`
CineCard demo is running (data in ${dataDir}).
  POS, cinema A  ${a.cinemaName['zh-CN']}:  ${demo.tills[0].url}
      till logins: ${staff(a)}
  POS, cinema B  ${b.cinemaName['zh-CN']}:  ${demo.tills[1].url}
      till logins: ${staff(b)}
  Central API:   ${demo.central.apiUrl}   (health: /v1/health; spec: spec/openapi.yaml)
      HQ admin: ${DEMO_ADMIN.username} / ${DEMO_ADMIN.password}
  Demo cards: ${demo.chain.cards.map((c) => c.cardNo).join(', ')} (made, not yet sold: sell one from the CineCard menu)
  These are DEMO credentials and DEMO card keys, for this machine only.
Press Ctrl+C to stop.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await demo.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} catch (err) {
  console.error(`Start-up failed: ${(err as Error).message}`);
  process.exit(1);
}
