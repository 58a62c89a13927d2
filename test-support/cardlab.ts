/**
 * The card lab: real pcscd + vpcd with emulated cards, for integration tests and benches.
 *
 * As root (with iproute2), pcscd and the card daemon run in a network namespace of their own whose
 * loopback routes carry `quickack 1`: vpcd sends a frame's length and payload in two writes, and on
 * an ordinary loopback Nagle + delayed ACK cost ~44 ms per APDU; there it is ~1 ms (reference §6).
 * pcsc clients (this process) reach pcscd over its UNIX socket, which no namespace hides.
 * Without root, everything runs on the ordinary loopback, and the lab says so.
 *
 * Only one pcscd can own /run/pcscd/pcscd.comm, so a lab takes a machine-wide lock: a second test
 * process waits for the first to finish instead of killing its pcscd. `stop()` — or, failing that,
 * process exit or a signal — kills what the lab started and deletes its namespace.
 *
 * `CARDLAB_DEBUG=1` shows reader status changes, every message vpcd sends the cards, and pcscd's log.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { CardReader, CardSession } from '../adapters/card-reader.ts';
import type { CardDaemonMessage, CardDaemonRequest, CardSnapshot } from '../adapters/emulator/card-daemon.ts';
import type { FaultPlan, MifareClassicInit } from '../adapters/emulator/mifare-classic.ts';
import { Emitter } from '../adapters/lifecycle.ts';
import { PcscCardReader, type PcscCardReaderOptions } from '../adapters/pcsc/pcsc-card-reader.ts';
import type { CardFixture } from './card-fixture.ts';

const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const PCSCD_PIDFILE = '/run/pcscd/pcscd.pid';
const LOCK_FILE = '/tmp/cinecard-cardlab.lock';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DAEMON = fileURLToPath(new URL('../adapters/emulator/card-daemon.ts', import.meta.url));

/** vpcd's reader name for a slot. */
export const vpcdReaderName = (slot: number) => `Virtual PCD 00 ${String(slot).padStart(2, '0')}`;

export interface CardLabOptions {
  /** How long a mute card holds its answer before leaving the field, ms. Default 1500. */
  readonly muteHoldMs?: number;
  /** How long to wait for another process's lab to finish, ms. Default 10 minutes. */
  readonly lockWaitMs?: number;
  /**
   * `quickack`: a network namespace with quickack loopback routes (needs root and iproute2);
   * `loopback`: the ordinary loopback, ~44 ms per APDU (to measure what the namespace saves).
   * Default: `quickack` when possible.
   */
  readonly network?: 'quickack' | 'loopback';
  /** Progress and warnings. Default: warnings to stderr. */
  readonly log?: (message: string) => void;
}

/** How long a slot stays empty before a new card goes on it: one vpcd presence poll (~400 ms), and some. */
const emptyPollMs = 600;

/** Talks to the card daemon over its stdin/stdout. */
export class CardDaemonClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly ejectedEmitter = new Emitter<{ slot: number; reason: string }>();
  /** The slots with a card on them, and when a card last left each slot. */
  private readonly occupied = new Set<number>();
  private readonly leftAt = new Map<number, number>();
  /** A card left its slot on its own (torn APDU, or mute after its hold time). */
  readonly onEjected = this.ejectedEmitter.event;
  readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    let markReady!: () => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      child.once('exit', (code) => reject(new Error(`card daemon exited (${code}) before it was ready`)));
    });
    this.ready.catch(() => {});
    child.stdin!.on('error', () => {}); // EPIPE once it exited: requests reject through 'exit'
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: CardDaemonMessage;
      try {
        msg = JSON.parse(line) as CardDaemonMessage;
      } catch {
        return; // not ours (a stray log line)
      }
      if ('event' in msg) {
        if (msg.event === 'ready') markReady();
        else {
          this.left(msg.slot);
          this.ejectedEmitter.fire({ slot: msg.slot, reason: msg.reason });
        }
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`card daemon: ${msg.error}`));
    });
    child.once('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('card daemon exited'));
      this.pending.clear();
    });
  }

  request<T = unknown>(req: CardDaemonRequest, timeoutMs = 15_000): Promise<T> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error('card daemon is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`card daemon did not answer ${req.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdin!.write(JSON.stringify({ ...req, id }) + '\n');
    });
  }

  /**
   * Puts a new card on the slot — once pcscd has polled it empty since the last card left (vpcd:
   * every ~400 ms). A card put on sooner may never be reported: pcscd went on polling it, answered,
   * and raised no PRESENT (seen about once in 25 runs of a test that changed cards at once). Nobody
   * changes cards that fast at a till; a card put back at once is {@link reinsert}.
   */
  async insert(slot: number, init: MifareClassicInit = {}): Promise<{ uidHex: string }> {
    const wait = (this.leftAt.get(slot) ?? -Infinity) + emptyPollMs - Date.now();
    if (wait > 0) await delay(wait);
    const inserted = await this.request<{ uidHex: string }>({
      cmd: 'insert',
      slot,
      uid: init.uid ? Buffer.from(init.uid).toString('hex') : undefined,
      imageHex: init.image ? Buffer.from(init.image).toString('hex') : undefined,
    });
    this.occupied.add(slot);
    return inserted;
  }
  /** Puts the last card back on the slot, at once (as a cardholder re-taps a card pulled mid-write). */
  async reinsert(slot: number): Promise<void> {
    await this.request({ cmd: 'reinsert', slot });
    this.occupied.add(slot);
  }
  async remove(slot: number): Promise<void> {
    await this.request({ cmd: 'remove', slot });
    this.left(slot);
  }

  private left(slot: number): void {
    if (this.occupied.delete(slot)) this.leftAt.set(slot, Date.now());
  }
  setFaults(slot: number, plan: FaultPlan): Promise<void> {
    return this.request({ cmd: 'setFaults', slot, plan });
  }
  snapshot(slot: number): Promise<CardSnapshot> {
    return this.request({ cmd: 'snapshot', slot });
  }
}

export interface CardLab {
  /** The lab's network namespace, or undefined when it runs on the ordinary loopback. */
  readonly netns: string | undefined;
  /** Whether APDUs travel over quickack loopback routes (≈1 ms) rather than the ordinary one (≈44 ms). */
  readonly quickack: boolean;
  readonly daemon: CardDaemonClient;
  /** Whether the lab's pcscd is running. */
  readonly pcscdRunning: boolean;
  /** Kills pcscd (SIGKILL by default: it dies as in a crash). */
  killPcscd(signal?: NodeJS.Signals): Promise<void>;
  /** Starts pcscd again; resolves once its socket answers. */
  startPcscd(): Promise<void>;
  /**
   * Freezes pcscd (SIGSTOP): its sockets stay open and nothing is answered, as when it is stuck in a
   * reader driver. {@link resumePcscd} lets it go on; killing or stopping the lab does too.
   */
  pausePcscd(): void;
  /** Lets a paused pcscd go on (SIGCONT). */
  resumePcscd(): void;
  /** Kills everything the lab started and deletes its namespace. */
  stop(): Promise<void>;
}

const isRoot = () => process.getuid?.() === 0;
const hasIp = () => spawnSync('ip', ['-V'], { stdio: 'ignore' }).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its new parent) answers signal 0 but is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc: trust the signal
  }
}

/**
 * util-linux's setpriv, when there is one, makes what the lab starts die with this process even
 * when it is SIGKILLed (PR_SET_PDEATHSIG), where no exit handler runs.
 */
const PDEATHSIG: string[] = spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout?.includes('--pdeathsig')
  ? ['setpriv', '--pdeathsig', 'KILL', '--']
  : [];

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the machine-wide lab lock, waiting while another live process holds it. */
async function takeLock(waitMs: number, log: (m: string) => void): Promise<void> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readPid(LOCK_FILE);
    if (holder === process.pid) throw new Error('a card lab is already running in this process; stop it first');
    if (holder === undefined || !alive(holder)) {
      rmSync(LOCK_FILE, { force: true }); // stale: its owner died
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the card lab is held by process ${holder}; gave up waiting`);
    if (!told) {
      log(`cardlab: waiting for process ${holder}, which is using pcscd`);
      told = true;
    }
    await sleep(250); // ref'd: a caller awaiting the lab must keep the process alive (mocha's own timers do not)
  }
}

function releaseLock(): void {
  if (readPid(LOCK_FILE) === process.pid) rmSync(LOCK_FILE, { force: true });
}

/** Kills a pcscd left running by someone else (found by its pid file), so ours can own the socket. */
async function killStrayPcscd(log: (m: string) => void): Promise<void> {
  const pid = readPid(PCSCD_PIDFILE);
  if (pid && alive(pid)) {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {}
    if (comm === 'pcscd') {
      log(`cardlab: stopping the pcscd already running (pid ${pid})`);
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
    }
  }
  removePcscdLeftovers();
}

function removePcscdLeftovers(): void {
  for (const f of [PCSCD_SOCKET, PCSCD_PIDFILE]) rmSync(f, { force: true });
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Deletes namespaces of earlier labs whose process is gone (`cardlab-<pid>`). */
function deleteStaleNamespaces(): void {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of out.split('\n')) {
    const m = /^cardlab-(\d+)\b/.exec(line.trim());
    if (m && !alive(Number(m[1]))) spawnSync('ip', ['netns', 'del', `cardlab-${m[1]}`], { stdio: 'ignore' });
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

/** Starts pcscd and the card daemon (in a quickack namespace when root). */
export async function startCardLab(options: CardLabOptions = {}): Promise<CardLab> {
  const log = options.log ?? ((m: string) => process.stderr.write(m + '\n'));
  await takeLock(options.lockWaitMs ?? 10 * 60_000, log);
  const canNetns = isRoot() && hasIp();
  if (options.network === 'quickack' && !canNetns) throw new Error('cardlab: a quickack namespace needs root and iproute2');
  const useNetns = canNetns && options.network !== 'loopback';
  let netns = useNetns ? `cardlab-${process.pid}` : undefined;
  const children = new Set<ChildProcess>();
  let pcscd: ChildProcess | undefined;
  let pcscdLog = '';
  let stopped = false;

  // Last resort when a test run dies without stop(): kill what we started, delete the namespace.
  const cleanupSync = () => {
    for (const c of children) if (c.exitCode === null && c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch {}
    if (netns) spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    releaseLock();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    cleanupSync();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', cleanupSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const inLab = (cmd: string, args: string[]): [string, string[]] => {
    const argv = [...PDEATHSIG, cmd, ...args];
    return netns ? ['ip', ['netns', 'exec', netns, ...argv]] : [argv[0]!, argv.slice(1)];
  };
  // What the lab starts does not keep this process alive: a test run that ends without stop()
  // (a hook that timed out while the lab was still starting) exits, and the exit handler cleans up.
  const track = (c: ChildProcess) => {
    children.add(c);
    c.once('exit', () => children.delete(c));
    c.unref();
    for (const stream of [c.stdin, c.stdout, c.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
    return c;
  };

  const startPcscd = async () => {
    if (pcscd && pcscd.exitCode === null) return;
    removePcscdLeftovers();
    const [cmd, args] = inLab('pcscd', process.env.CARDLAB_DEBUG ? ['-f', '-d'] : ['-f']);
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
    pcscd = child;
    pcscdLog = '';
    child.stderr!.on('data', (d: Buffer) => {
      pcscdLog = (pcscdLog + d.toString()).slice(-4000);
      if (process.env.CARDLAB_DEBUG) process.stderr.write(d);
    });
    child.once('exit', (code, signal) => {
      if (pcscd === child) options.log?.(`cardlab: pcscd exited unexpectedly (${code ?? signal}): ${pcscdLog.slice(-1000)}`);
    });
    const deadline = Date.now() + 10_000;
    while (!(existsSync(PCSCD_SOCKET) && (await socketAnswers(PCSCD_SOCKET)))) {
      if (child.exitCode !== null) throw new Error(`pcscd exited (${child.exitCode}): ${pcscdLog}`);
      if (Date.now() > deadline) throw new Error(`pcscd did not open ${PCSCD_SOCKET} within 10 s: ${pcscdLog}`);
      await sleep(20);
    }
  };

  const killPcscd = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const child = pcscd;
    pcscd = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    child.kill('SIGCONT'); // a paused pcscd handles its signal only once it runs
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
    removePcscdLeftovers();
  };

  try {
    if (netns) {
      deleteStaleNamespaces();
      spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
      try {
        run('ip', ['netns', 'add', netns]);
        run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
        for (const dst of ['127.0.0.0/8', '127.0.0.1']) {
          run('ip', ['netns', 'exec', netns, 'ip', 'route', 'change', 'local', dst, 'dev', 'lo', 'proto', 'kernel', 'scope', 'host', 'src', '127.0.0.1', 'table', 'local', 'quickack', '1']);
        }
      } catch (e) {
        // Root without CAP_SYS_ADMIN (an unprivileged container): the namespace is out of reach.
        if (options.network === 'quickack') throw e;
        spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
        netns = undefined;
        log(`cardlab: no network namespace (${(e as Error).message.trim()}): the ordinary loopback, ~44 ms per APDU (reference §6)`);
      }
    } else if (!canNetns) {
      log('cardlab: not root or no `ip`: pcscd and the cards use the ordinary loopback, ~44 ms per APDU (reference §6)');
    }
    await killStrayPcscd(log);
    await startPcscd();

    // `--import tsx` resolves from the working directory: the project root.
    const [cmd, args] = inLab(process.execPath, ['--import', 'tsx', DAEMON, '--mute-hold-ms', String(options.muteHoldMs ?? 1500), ...(process.env.CARDLAB_DEBUG ? ['--trace'] : [])]);
    const child = track(spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] }));
    const daemon = new CardDaemonClient(child);
    // A deadline, and a ref'd timer while waiting: the daemon's pipes do not keep this process alive.
    let readyTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      daemon.ready,
      new Promise<never>((_, reject) => {
        readyTimer = setTimeout(() => reject(new Error('the card daemon did not start within 30 s')), 30_000);
      }),
    ]).finally(() => clearTimeout(readyTimer));

    return {
      netns,
      quickack: netns !== undefined,
      daemon,
      get pcscdRunning() {
        return pcscd !== undefined && pcscd.exitCode === null;
      },
      killPcscd,
      startPcscd,
      pausePcscd: () => void pcscd?.kill('SIGSTOP'),
      resumePcscd: () => void pcscd?.kill('SIGCONT'),
      async stop() {
        if (stopped) return;
        stopped = true;
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          await daemon.request({ cmd: 'quit' }, 1000).catch(() => child.kill('SIGKILL'));
          const t = setTimeout(() => child.kill('SIGKILL'), 1000);
          await exited;
          clearTimeout(t);
        }
        await killPcscd('SIGTERM');
        cleanupSync();
        process.off('exit', cleanupSync);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      },
    };
  } catch (e) {
    cleanupSync();
    process.off('exit', cleanupSync);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw e;
  }
}

/** Runs `act` and resolves with the next session PRESENT on `readerName` once `act` has finished too. */
export async function nextPresentOn(reader: CardReader, readerName: string, act: () => unknown, timeoutMs = 5000): Promise<CardSession> {
  let sub: { dispose(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const present = new Promise<CardSession>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no card PRESENT on ${readerName} within ${timeoutMs} ms`)), timeoutMs);
      sub = reader.onCardPresent((s) => {
        if (s.reader === readerName) resolve(s);
      });
    });
    present.catch(() => {}); // if act fails first, that is the error to report
    await act();
    return await present;
  } finally {
    clearTimeout(timer);
    sub?.dispose();
  }
}

/** Waits until `reader` lists `name`. */
export function readerListed(reader: CardReader, name: string, timeoutMs = 5000): Promise<void> {
  if (reader.readers.includes(name)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => (sub.dispose(), reject(new Error(`reader ${name} did not appear within ${timeoutMs} ms`))), timeoutMs);
    const sub = reader.onReaderAdded((n) => {
      if (n !== name) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

export interface PcscFixtureOptions extends PcscCardReaderOptions {
  /** The vpcd slot the fixture's card goes on (0 or 1). Default 0. */
  readonly slot?: number;
}

/**
 * A {@link CardFixture} over a started {@link PcscCardReader} and the lab's card daemon: the same
 * card suite as `inProcessFixture`, through pcsc-mini → pcscd → vpcd.
 */
export async function pcscFixture(lab: CardLab, options: PcscFixtureOptions = {}): Promise<CardFixture & { reader: PcscCardReader; readerName: string }> {
  const slot = options.slot ?? 0;
  const name = vpcdReaderName(slot);
  const debug = process.env.CARDLAB_DEBUG
    ? (m: string, d?: Record<string, unknown>) => process.stderr.write(`[pcsc ${performance.now().toFixed(0)}] ${m} ${d ? JSON.stringify(d) : ''}\n`)
    : undefined;
  const reader = new PcscCardReader({ log: debug, ...options });
  await reader.start();
  await readerListed(reader, name);
  await lab.daemon.remove(slot);
  let current: CardSession | undefined;
  const sub = reader.onCardPresent((s) => {
    if (s.reader === name) current = s;
  });

  const waitRemoved = (session: CardSession, timeoutMs = 5000) =>
    new Promise<void>((resolve, reject) => {
      if (!session.present) return resolve();
      const timer = setTimeout(() => (off.dispose(), reject(new Error(`card removal not reported within ${timeoutMs} ms`))), timeoutMs);
      const off = reader.onCardRemoved((e) => {
        if (e.sessionId !== session.id) return;
        clearTimeout(timer);
        off.dispose();
        resolve();
      });
    });

  const remove = async () => {
    const s = current;
    await lab.daemon.remove(slot);
    if (s) await waitRemoved(s);
  };

  return {
    label: 'pcscd+vpcd',
    reader,
    readerName: name,
    insert: async (init) => {
      await remove();
      return nextPresentOn(reader, name, () => lab.daemon.insert(slot, init));
    },
    reinsert: async () => {
      await remove();
      return nextPresentOn(reader, name, () => lab.daemon.reinsert(slot));
    },
    remove,
    setFaults: (plan) => lab.daemon.setFaults(slot, plan),
    snapshot: async () => {
      const s = await lab.daemon.snapshot(slot);
      return { uid: Uint8Array.from(Buffer.from(s.uidHex, 'hex')), image: Uint8Array.from(Buffer.from(s.imageHex, 'hex')) };
    },
    dispose: async () => {
      sub.dispose();
      await lab.daemon.remove(slot).catch(() => {});
      reader.dispose();
    },
  };
}

/**
 * Starts a card lab for the enclosing mocha `describe` and stops it after; returns a getter. The
 * start may wait for another test process's lab (the machine-wide lock), so its hook gets a
 * timeout that covers the wait.
 */
export function useCardLab(options: CardLabOptions = {}): () => CardLab {
  let lab: CardLab | undefined;
  before(async function () {
    this.timeout((options.lockWaitMs ?? 10 * 60_000) + 30_000);
    lab = await startCardLab(options);
  });
  after(async function () {
    this.timeout(30_000);
    await lab?.stop();
    lab = undefined;
  });
  return () => {
    if (!lab) throw new Error('the card lab is not running (use it inside tests and hooks of the describe)');
    return lab;
  };
}
