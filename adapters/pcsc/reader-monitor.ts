/**
 * Reader and card-presence events from pcscd, watched by a pcsc-mini Client that lives in a child
 * process (reader-monitor-process.mjs), so that nothing it does can block this process.
 *
 * Why a process: pcsc-mini 0.1.3's `Client.stop()` does call SCardCancel before
 * SCardReleaseContext, but pcsc-lite 1.9.9's SCardCancel is a silent no-op unless the monitor
 * thread sits inside the wait of SCardGetStatusChange at that very moment (`cancellable`,
 * winscard_clnt.c). Caught between two waits — right after any reader event, longer on a loaded
 * machine — the cancel is lost, the monitor thread starts its next INFINITE wait holding the
 * context's lock, and SCardReleaseContext blocks the caller until the next reader event (a tap,
 * a removal, or never). And while pcscd does not answer (stopped, or stuck in a driver), SCardCancel
 * itself and SCardEstablishContext block as long. A worker thread would not do: `terminate()`
 * cannot interrupt a thread inside a native call, and Node joins every worker thread at exit, so
 * a stuck one holds up the process's exit instead. A child process is simply killed: the kernel
 * closes its sockets and pcscd drops its context.
 *
 * Card handles are not here: they are opened in the parent through a Client that is never started
 * (pcsc-mini gives every card its own PC/SC context, and a Client that never started has no monitor
 * to wait for), so APDUs cost nothing extra.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./reader-monitor-process.mjs', import.meta.url));

/** What the parent sends the monitor process. */
export type ToMonitor = { readonly t: 'start'; readonly gen: number };

/** What the monitor process sends, each about the Client of generation `gen`. */
export type FromMonitor =
  | { readonly t: 'up'; readonly gen: number }
  | { readonly t: 'down'; readonly gen: number; readonly code: string }
  | { readonly t: 'reader'; readonly gen: number; readonly name: string }
  | { readonly t: 'change'; readonly gen: number; readonly name: string; readonly raw: number }
  | { readonly t: 'gone'; readonly gen: number; readonly name: string }
  | { readonly t: 'error'; readonly gen: number; readonly code: string; readonly live: boolean };

export interface ReaderMonitorHandlers {
  /** The answer to {@link ReaderMonitor.start}: undefined when monitoring, else why not (e.g. `NoService`). */
  started(code: string | undefined): void;
  /** A reader appeared (also each reader present at start). */
  reader(name: string): void;
  /** A reader's status changed (pcsc-mini's raw status flags, with pcsc-lite's event counter on top). */
  change(name: string, raw: number): void;
  /** A reader went away. */
  gone(name: string): void;
  /** Monitoring stopped on its own (pcscd died: `CommError`…; the process died: `MonitorExited`). */
  failed(code: string): void;
}

export interface ReaderMonitorOptions {
  /** How long a start may take (spawning the process included) before it counts as failed, ms. */
  readonly startTimeoutMs?: number;
  readonly log?: (message: string, detail?: Record<string, unknown>) => void;
}

export class ReaderMonitor {
  private child: ChildProcess | undefined;
  /** Generation of the current Client: messages about earlier ones are dropped. */
  private gen = 0;
  /** The child runs a started Client of generation `gen`. */
  private live = false;
  /** A start waiting for its answer. */
  private pending: { readonly gen: number; readonly timer: NodeJS.Timeout } | undefined;
  private disposed = false;
  private readonly startTimeoutMs: number;
  private readonly log: (message: string, detail?: Record<string, unknown>) => void;

  constructor(
    private readonly handlers: ReaderMonitorHandlers,
    options: ReaderMonitorOptions = {},
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.log = options.log ?? (() => {});
  }

  /** The child process's pid, while there is one (for tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts monitoring; answers through `handlers.started`. Reuses the process when it is idle. */
  start(): void {
    if (this.disposed || this.pending) return;
    if (this.live) this.kill(); // not expected: the caller recycles first
    const child = this.child ?? this.spawnChild();
    const gen = ++this.gen;
    const timer = setTimeout(() => {
      this.log('reader monitor did not answer', { ms: this.startTimeoutMs });
      this.kill(); // stuck (pcscd not answering SCardEstablishContext) or never started
      this.answer(gen, 'MonitorTimeout');
    }, this.startTimeoutMs);
    this.pending = { gen, timer };
    this.send(child, { t: 'start', gen });
  }

  /** Lets go of the current Client, without blocking: the process goes too when the Client still runs. */
  recycle(): void {
    this.gen++;
    if (this.pending) this.answer(this.pending.gen, 'Recycled');
    if (this.live) this.kill();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.recycle();
    this.kill();
  }

  private spawnChild(): ChildProcess {
    // No execArgv: the script is plain JavaScript, and the parent's flags (a TS loader, --inspect)
    // are not the child's business.
    const child = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    this.child = child;
    child.on('message', (m: FromMonitor) => {
      if (this.child === child) this.onMessage(m);
    });
    child.on('error', (e) => this.lost(child, `MonitorError: ${e.message}`)); // on, not once: a failed kill() emits one too
    child.once('exit', (code, signal) => this.lost(child, `MonitorExited (${signal ?? code})`));
    return child;
  }

  private send(child: ChildProcess, message: ToMonitor): void {
    child.send(message, (e) => {
      if (e) this.lost(child, `MonitorUnreachable: ${e.message}`);
    });
  }

  private onMessage(m: FromMonitor): void {
    if (m.gen !== this.gen) return;
    switch (m.t) {
      case 'up':
        this.live = true;
        return this.answer(m.gen, undefined);
      case 'down':
        return this.answer(m.gen, m.code);
      case 'reader':
        return this.handlers.reader(m.name);
      case 'change':
        return this.handlers.change(m.name, m.raw);
      case 'gone':
        return this.handlers.gone(m.name);
      case 'error':
        this.gen++; // whatever that Client still says is stale
        this.live = false;
        if (m.live) this.kill(); // it still runs: stopping it could block the child, so the child goes
        return this.handlers.failed(m.code);
    }
  }

  private answer(gen: number, code: string | undefined): void {
    if (this.pending?.gen !== gen) return;
    clearTimeout(this.pending.timer);
    this.pending = undefined;
    if (!this.disposed) this.handlers.started(code);
  }

  /** The process died, could not be spawned or cannot be reached. */
  private lost(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.log('reader monitor lost', { why });
    const wasLive = this.live;
    this.live = false;
    child.kill('SIGKILL');
    if (this.pending) this.answer(this.pending.gen, 'MonitorExited');
    else if (wasLive && !this.disposed) {
      this.gen++;
      this.handlers.failed('MonitorExited');
    }
  }

  private kill(): void {
    const child = this.child;
    this.child = undefined;
    this.live = false;
    child?.kill('SIGKILL');
  }
}
