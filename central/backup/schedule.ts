/**
 * When backups run: `intervalMinutes` after the newest backup started (or after the service
 * started, when there is none). The due time is worked out again after every run and every
 * restart from the backup directory, so restarts neither skip nor double a backup. Clock and
 * timers are injected (tests drive them by hand).
 */
import type { Logger } from 'pino';
import type { Clock } from '../store/ids.ts';

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ScheduleOptions {
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly timers?: Timers;
  readonly log: Logger;
  /** When the newest backup started (undefined: none yet). */
  readonly lastStartedAt: () => Promise<Date | undefined>;
  /** Makes one backup; its failures are its own business (recorded in its status). */
  readonly run: () => Promise<unknown>;
}

/** Node's timers take at most 2^31-1 ms; a longer wait is taken in steps. */
const longestWait = 2 ** 31 - 1;

export class BackupSchedule {
  private handle: unknown;
  private stopped = true;
  private readonly startedAt: Date;
  private due: Date | undefined;
  private readonly timers: Timers;

  constructor(private readonly options: ScheduleOptions) {
    this.startedAt = options.clock.now();
    this.timers = options.timers ?? systemTimers;
  }

  /** When the next backup is due (undefined until armed, or when stopped). */
  get nextRunAt(): Date | undefined {
    return this.stopped ? undefined : this.due;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  /** Due an interval after the newest backup started (any made by hand or by another instance too). */
  private async dueTime(): Promise<Date> {
    const last = await this.options.lastStartedAt().catch((error: unknown) => {
      this.options.log.warn({ err: error }, 'cannot read the backup directory; the schedule counts from the start');
      return undefined;
    });
    return new Date((last ?? this.startedAt).getTime() + this.options.intervalMs);
  }

  private async arm(): Promise<void> {
    if (this.stopped) return;
    this.due = await this.dueTime();
    if (this.stopped) return;
    const wait = Math.min(Math.max(0, this.due.getTime() - this.options.clock.now().getTime()), longestWait);
    this.handle = this.timers.setTimeout(() => void this.fire(), wait);
  }

  private async fire(): Promise<void> {
    this.handle = undefined;
    if (this.stopped) return;
    this.due = await this.dueTime();
    if (!this.stopped && this.options.clock.now() >= this.due) {
      try {
        await this.options.run();
      } catch (error) {
        // Another backup running (the API, the CLI, another instance) counts as this one.
        this.options.log.warn({ err: error }, 'scheduled backup not started');
      }
    }
    await this.arm();
  }
}
