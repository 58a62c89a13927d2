/**
 * A simulated till for the sync integration tests: a real terminal store (SQLite file), enrolled
 * with a real central, recording redemptions of simulated cards. These tests run central in the
 * same process (through its test harness) so faults can be injected between the two sides; the
 * plugin's code under test imports only `central/client`, like in production.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerminalStore, type Op } from '../../store/terminal-store.ts';
import { SyncService, TerminalCredentialAuth } from '../sync-service.ts';
import type { SyncOptions, Timers } from '../sync-contract.ts';
import type { Clock } from '../../../adapters/clock.ts';
import type { EnrolledTerminal } from '../../../central/test-support/harness.ts';

/** A physical card in the model: its seq and balance live on the card. */
export interface SimCard {
  readonly cardNo: string;
  readonly uid: string;
  seq: number;
  remaining: number;
}

export class SimTerminal {
  service: SyncService | undefined;

  private constructor(
    readonly enrolled: EnrolledTerminal,
    readonly file: string,
    public store: TerminalStore,
    private readonly now?: () => number,
  ) {}

  static async open(enrolled: EnrolledTerminal, options: { now?: () => number } = {}): Promise<SimTerminal> {
    const file = join(mkdtempSync(join(tmpdir(), 'cinecard-till-')), 'terminal.sqlite');
    const store = await TerminalStore.open({ filename: file, ...(options.now ? { now: options.now } : {}) });
    await store.setIdentity({ terminalId: enrolled.terminalId, cinemaId: enrolled.cinemaId });
    return new SimTerminal(enrolled, file, store, options.now);
  }

  /** Taps the card and takes `uses`: the card's seq and balance move, the op is recorded locally. */
  async redeem(card: SimCard, uses = 1): Promise<Op> {
    card.seq += 1;
    card.remaining -= uses;
    return this.store.write((trx) =>
      this.store.appendOp(trx, { kind: 'redeem', cardNo: card.cardNo, cardSeq: card.seq, uses, remainingAfter: card.remaining, consumption: 'ticket', payload: { uid: card.uid } }),
    );
  }

  sync(urls: readonly string[], options: Partial<SyncOptions> = {}, extra: { clock?: Clock; timers?: Timers } = {}): SyncService {
    this.service = new SyncService(
      this.store,
      { centralUrls: urls, auth: new TerminalCredentialAuth(this.enrolled.terminalId, this.enrolled.secret), pokes: false, backoffInitialMs: 20, backoffMaxMs: 200, ...options },
      extra.clock,
      undefined,
      extra.timers,
    );
    return this.service;
  }

  /** As if the process died: the service is dropped mid-whatever, the database closed and reopened. */
  async crashAndReopen(): Promise<void> {
    const dying = this.service;
    this.service = undefined;
    void dying?.dispose();
    await this.store.close();
    this.store = await TerminalStore.open({ filename: this.file, ...(this.now ? { now: this.now } : {}) });
  }

  async close(): Promise<void> {
    await this.service?.dispose();
    await this.store.close();
  }
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Queues `count` redemptions round-robin over `cards` the fast way: the same rows `appendOp`
 * writes (UUIDv7 op id, next term seq, `opHash`), inserted 500 at a time — a week of offline
 * taps in a second, so the outage test spends its time on the sync, not on the setup.
 */
export async function queueRedemptions(t: SimTerminal, cards: SimCard[], count: number): Promise<void> {
  const { opHash } = await import('../../store/terminal-store.ts');
  const { v7 } = await import('uuid');
  const { terminalId, cinemaId } = (await t.store.identity())!;
  const last = await t.store.db('ops').max<{ m: number | null }>('term_seq as m').first();
  let termSeq = last?.m ?? 0;
  for (let done = 0; done < count; done += 500) {
    const rows: Record<string, string | number | null>[] = [];
    for (let i = done; i < Math.min(count, done + 500); i++) {
      const card = cards[i % cards.length]!;
      card.seq += 1;
      card.remaining -= 1;
      termSeq += 1;
      const base = {
        kind: 'redeem' as const, cardNo: card.cardNo, cardSeq: card.seq, uses: 1, remainingAfter: card.remaining, consumption: 'ticket' as const,
        opId: v7(), termSeq, terminalId, cinemaId, deviceTime: new Date().toISOString(), payloadJson: '{}',
      };
      rows.push({
        op_id: base.opId, term_seq: termSeq, terminal_id: terminalId, cinema_id: cinemaId, kind: 'redeem', card_no: card.cardNo, card_seq: card.seq,
        operator_id: null, consumption: 'ticket', uses: 1, remaining_after: card.remaining, device_time: base.deviceTime, payload: '{}', hash: opHash(base),
      });
    }
    await t.store.write(async (trx) => {
      await trx('ops').insert(rows);
      await trx('outbox').insert(rows.map((r) => ({ op_id: r.op_id, term_seq: r.term_seq })));
    });
  }
}
