/**
 * `npm run bench -- push` (DESIGN §7): a blacklist change → enforced at 1,000 connected terminals.
 * Central runs as a child process (SQLite); 1,000 simulated terminals in this process each hold
 * the sync socket and behave like `plugin/sync/sync-service.ts`: a blacklist change the socket
 * carries is applied when it follows on from the terminal's blacklist cursor, and a poke past
 * either cursor makes the terminal pull the change log over HTTP and apply it. Latency per
 * terminal: from the HQ request that blacklists a card to that terminal having the card in its
 * blacklist (by whichever path got it there first). Budget: p99 ≤ 500 ms.
 */
import http from 'node:http';
import { WebSocket } from 'ws';
import { parseSyncMessage, SYNC_SOCKET_PATH, type Schemas } from '../central/client/index.ts';
import { percentile, round, type BenchRow } from './report.ts';
import { syncBench, type BenchTerminal } from './sync-setup.ts';

const TERMINALS = Number(process.env['BENCH_PUSH_TERMINALS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_PUSH_ROUNDS'] ?? 10);

// node:http with keep-alive rather than fetch: a thousand simulated tills share this process's
// two cores with nothing else, and undici's per-request cost would be measured as push latency.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
function getJson<T>(url: string, token: string): Promise<T> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            if (res.statusCode !== 200) throw new Error(`pull answered ${res.statusCode}`);
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
          } catch (error) {
            reject(error);
          }
        });
      })
      .on('error', reject);
  });
}

class SimulatedTerminal {
  cursor = 0;
  blacklistCursor = 0;
  readonly blacklist = new Set<string>();
  private ws: WebSocket | undefined;
  private pulling = false;
  /** Pulls that failed (a terminal that missed a change because of one shows in `missed`). */
  pullErrors = 0;
  /** Changes this terminal enforced from the socket's blacklist message (before any pull had them). */
  fromSocket = 0;
  private again = false;
  /** When each poke arrived (hrtime), for the poke-only latency. */
  readonly pokes: bigint[] = [];
  /** card → when it was applied (hrtime). */
  readonly appliedAt = new Map<string, bigint>();

  constructor(
    private readonly url: string,
    private readonly terminal: BenchTerminal,
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url.replace(/^http/, 'ws') + SYNC_SOCKET_PATH, { headers: { authorization: `Bearer ${this.terminal.token}` } });
      this.ws = ws;
      ws.once('error', reject);
      ws.on('message', (data) => {
        const m = parseSyncMessage(String(data));
        if (!m) return;
        if (m.type === 'welcome') {
          this.cursor = m.head;
          this.blacklistCursor = m.blacklistVersion;
          resolve();
        } else if (m.type === 'blacklist') {
          if (this.blacklistCursor < m.after || this.blacklistCursor >= m.upTo) return;
          for (const { id, ...entry } of m.entries) if (id > this.blacklistCursor) this.apply(entry, true);
          this.blacklistCursor = m.upTo;
        } else if (m.blacklistVersion > this.blacklistCursor || m.head > this.cursor) {
          this.pokes.push(process.hrtime.bigint());
          // As SyncService does (schedulePull(0)): the pull starts from a timer, not inside the handler.
          setTimeout(() => this.pull().catch(() => this.pullErrors++), 0);
        }
      });
    });
  }

  private async pull(): Promise<void> {
    if (this.pulling) {
      this.again = true;
      return;
    }
    this.pulling = true;
    try {
      do {
        this.again = false;
        const q = `cursor=${this.cursor}&blacklistCursor=${this.blacklistCursor}&limit=500`;
        const page = await getJson<Schemas['SyncChanges']>(`${this.url}/v1/sync/changes?${q}`, this.terminal.token);
        for (const change of page.blacklist) if (change.blacklist) this.apply(change.blacklist);
        this.cursor = page.cursor;
        this.blacklistCursor = page.blacklistCursor;
        if (page.hasMore) this.again = true;
      } while (this.again);
    } finally {
      this.pulling = false;
    }
  }

  private apply(entry: Schemas['SyncBlacklistEntry'], fromSocket = false): void {
    if (entry.listed) {
      this.blacklist.add(entry.cardNo);
      if (!this.appliedAt.has(entry.cardNo)) {
        this.appliedAt.set(entry.cardNo, process.hrtime.bigint());
        if (fromSocket) this.fromSocket++;
      }
    } else this.blacklist.delete(entry.cardNo);
  }

  get busy(): boolean {
    return this.pulling;
  }

  close(): void {
    this.ws?.terminate();
  }
}

export async function pushBench(): Promise<BenchRow[]> {
  const bench = await syncBench('sqlite');
  const sims: SimulatedTerminal[] = [];
  try {
    const terminals = await bench.enrol(TERMINALS);
    const cards = await bench.soldCards(ROUNDS, 100);
    await bench.serve();
    for (let i = 0; i < terminals.length; i += 100) {
      const chunk = terminals.slice(i, i + 100).map((t) => new SimulatedTerminal(bench.url, t));
      await Promise.all(chunk.map((s) => s.connect()));
      sims.push(...chunk);
    }
    const latencies: number[] = [];
    const pokeLatencies: number[] = [];
    let missed = 0;
    const requestTimes: number[] = [];
    for (const cardNo of cards) {
      // Each change starts from a settled system: the previous change's pulls have finished (its
      // enforcement may have come from the socket before them).
      const settle = Date.now() + 10_000;
      while (sims.some((s) => s.busy) && Date.now() < settle) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 200));
      for (const s of sims) s.pokes.length = 0;
      const start = process.hrtime.bigint();
      const res = await bench.admin.POST('/v1/cards/{cardNo}/blacklist', { params: { path: { cardNo } }, body: { reason: 'bench' } });
      if (!res.response.ok) throw new Error(`blacklist failed: ${res.response.status}`);
      const answered = Number(process.hrtime.bigint() - start) / 1e6;
      requestTimes.push(answered);
      const deadline = Date.now() + 10_000;
      while (sims.some((s) => !s.appliedAt.has(cardNo)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      for (const s of sims) {
        const at = s.appliedAt.get(cardNo);
        if (at === undefined) missed++;
        else latencies.push(Number(at - start) / 1e6);
        if (s.pokes[0] !== undefined) pokeLatencies.push(Number(s.pokes[0] - start) / 1e6);
      }
    }
    const p99 = percentile(latencies, 99);
    return [
      { name: `push: blacklist → enforced at ${TERMINALS} terminals, p50`, value: round(percentile(latencies, 50)), unit: 'ms', budget: '—', baseline: null, ok: null },
      { name: `push: blacklist → enforced at ${TERMINALS} terminals, p99`, value: round(p99), unit: 'ms', budget: '≤ 500', baseline: null, ok: p99 <= 500 && missed === 0 },
      { name: 'push: the blacklist request answered (HQ), p50', value: round(percentile(requestTimes, 50)), unit: 'ms', budget: '—', baseline: null, ok: null },
      { name: `push: poke received at ${TERMINALS} terminals, p99`, value: round(percentile(pokeLatencies, 99)), unit: 'ms', budget: '—', baseline: null, ok: null },
      { name: 'push: terminals that missed a change (10 s)', value: missed, unit: 'count', budget: '0', baseline: null, ok: missed === 0 },
      { name: 'push: changes enforced from the socket message, not a pull (info)', value: round((100 * sims.reduce((n, s) => n + s.fromSocket, 0)) / Math.max(1, latencies.length)), unit: '%', budget: '—', baseline: null, ok: null },
      { name: 'push: failed pulls (info)', value: sims.reduce((n, s) => n + s.pullErrors, 0), unit: 'count', budget: '—', baseline: null, ok: null },
    ];
  } finally {
    // Pulls still running after the last change (it may have been enforced from the socket) end first.
    const settle = Date.now() + 10_000;
    while (sims.some((s) => s.busy) && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
    agent.destroy();
    for (const s of sims) s.close();
    await bench.close();
  }
}
