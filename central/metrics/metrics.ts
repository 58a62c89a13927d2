/**
 * Prometheus metrics of one central instance (`spec/operations.md` "Monitoring"), on a registry of
 * its own — never prom-client's global one: a test process runs many centrals at once.
 *
 * - Counted as things happen, in this process: HTTP request latency (a fastify hook, labelled with
 *   the route *pattern*, never the raw URL) and sync ingest (ops by outcome, batches).
 * - Read at scrape time, from the database and the backup directory: per-terminal sync lag, the
 *   change log's head, fraud alerts, backup times. Each source is one or two cheap reads, shared by
 *   the gauges it feeds; a source that fails is logged and left out of that scrape (its gauges are
 *   empty), the others are still answered.
 */
import client from 'prom-client';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { components } from '../client/schema.ts';
import type { Platform } from '../platform.ts';
import type { Clock } from '../store/ids.ts';

const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = client;
type S = components['schemas'];

/** Latency buckets for a POS API: 5 ms … 5 s. */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const fraudKinds: readonly S['FraudAlert']['kind'][] = ['seq_reused', 'seq_backwards', 'uid_mismatch'];
const syncOutcomes: readonly S['SyncOpResult']['outcome'][] = ['applied', 'duplicate', 'rejected', 'deferred'];

/** What the scrape-time gauges read; each one a function so a test (or another module) can supply it. */
export interface MetricSources {
  /** Sync health of every terminal (the `GET /v1/sync/health` answer for HQ). */
  readonly syncHealth: () => Promise<S['SyncHealth']>;
  /** Fraud alerts per kind: all stored, and those whose card is still blacklisted. */
  readonly fraudAlerts: () => Promise<readonly { kind: string; total: number; open: number }[]>;
  /** The backups in the backup directory, newest first. */
  readonly backups: () => Promise<readonly S['Backup'][]>;
  /** Open sync sockets of this instance. */
  readonly wsClients: () => number;
}

/**
 * prom-client's process metrics (CPU, memory, event-loop lag, GC…) are the process's, whichever
 * central asks: they are made once — the GC observer and the event-loop monitor they start cannot
 * be stopped — and registered on every instance's registry as well.
 */
let processMetrics: client.Registry | undefined;
function processMetricsRegistry(): client.Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export class CentralMetrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'cinecard_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route pattern (as in the API spec) and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly syncOps = new Counter({
    name: 'cinecard_sync_ops_total',
    help: 'Terminal ops received in sync batches, by result: applied, duplicate (a resend), rejected (parked), deferred (past the expected seq, to be sent again).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly syncRejected = new Counter({
    name: 'cinecard_sync_ops_rejected_total',
    help: 'Ops rejected (parked) by reason: op_id_conflict, term_seq_reused, invalid_op, card_unknown, card_not_sold, seq_taken, wrong_terminal, refused.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly syncBatches = new Counter({
    name: 'cinecard_sync_batches_total',
    help: 'Sync batches ingested (answered 200).',
    registers: [this.registry],
  });
  readonly scrapeErrors: client.Counter<'source'>;

  private current: MetricSources | undefined;
  private health: Promise<S['SyncHealth'] | undefined> | undefined;
  private fraud: Promise<readonly { kind: string; total: number; open: number }[] | undefined> | undefined;
  private backupList: Promise<readonly S['Backup'][] | undefined> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    for (const result of syncOutcomes) this.syncOps.inc({ result }, 0);
    this.syncBatches.inc(0);
    const shared = processMetricsRegistry();
    for (const { name } of shared.getMetricsAsArray()) this.registry.registerMetric(shared.getSingleMetric(name)!);
    this.scrapeTimeGauges();
    // Registered last, so that at a scrape it waits for the reads the gauges above have started and
    // counts this scrape's failures too.
    const self = this;
    this.scrapeErrors = new Counter({
      name: 'cinecard_metrics_source_errors_total',
      help: 'Scrape-time reads that failed, by source (sync_health, fraud_alerts, backups); that source was left out of the scrape.',
      labelNames: ['source'] as const,
      registers: [this.registry],
      async collect() {
        await Promise.all([self.health, self.fraud, self.backupList]);
      },
    });
  }

  /** Where the scrape-time gauges read from. */
  get sources(): MetricSources | undefined {
    return this.current;
  }

  /** Sets where the scrape-time gauges read from (when the server is built); returns the previous sources. */
  readFrom(sources: MetricSources): MetricSources | undefined {
    const previous = this.current;
    this.current = sources;
    return previous;
  }

  /** One sync batch's answer: its ops by outcome (and rejections by reason). */
  countBatch(result: S['SyncBatchResult']): void {
    this.syncBatches.inc();
    for (const op of result.results) {
      this.syncOps.inc({ result: op.outcome });
      if (op.outcome === 'rejected') this.syncRejected.inc({ reason: op.reason ?? 'unknown' });
    }
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /**
   * One read per source and scrape: the gauges of a source start collecting in the same tick and
   * share the read in flight. A failure is logged, counted, and yields undefined.
   */
  private shared<T>(
    name: 'sync_health' | 'fraud_alerts' | 'backups',
    slot: { get: () => Promise<T | undefined> | undefined; set: (p: Promise<T | undefined> | undefined) => void },
    read: (sources: MetricSources) => Promise<T>,
  ): Promise<T | undefined> {
    let pending = slot.get();
    if (!pending) {
      const sources = this.current;
      pending = (sources ? read(sources) : Promise.resolve(undefined))
        .catch((error: unknown) => {
          this.scrapeErrors.inc({ source: name });
          this.log.warn({ err: error, source: name }, 'metrics: a scrape-time read failed; its metrics are left out');
          return undefined;
        })
        .finally(() => slot.set(undefined));
      slot.set(pending);
    }
    return pending;
  }

  private readHealth(): Promise<S['SyncHealth'] | undefined> {
    return this.shared('sync_health', { get: () => this.health, set: (p) => (this.health = p) }, (s) => s.syncHealth());
  }

  private readFraud(): Promise<readonly { kind: string; total: number; open: number }[] | undefined> {
    return this.shared('fraud_alerts', { get: () => this.fraud, set: (p) => (this.fraud = p) }, (s) => s.fraudAlerts());
  }

  private readBackups(): Promise<readonly S['Backup'][] | undefined> {
    return this.shared('backups', { get: () => this.backupList, set: (p) => (this.backupList = p) }, (s) => s.backups());
  }

  private ageSeconds(at: string): number {
    return Math.max(0, (this.clock.now().getTime() - Date.parse(at)) / 1000);
  }

  private scrapeTimeGauges(): void {
    const registers = [this.registry];
    // `self` rather than `this`: prom-client calls collect() with the gauge as `this`.
    const self = this;
    new Gauge({
      name: 'cinecard_terminal_last_seen_seconds',
      help: "Seconds since central last heard from the terminal (upload or pull); terminals that have synced at least once.",
      labelNames: ['terminal', 'cinema'] as const,
      registers,
      async collect() {
        this.reset();
        const health = await self.readHealth();
        for (const t of health?.terminals ?? []) {
          if (t.lastSeenAt) this.set({ terminal: t.terminalId, cinema: t.cinemaId }, self.ageSeconds(t.lastSeenAt));
        }
      },
    });
    new Gauge({
      name: 'cinecard_terminal_pending_changes',
      help: "Change-log items the terminal has not pulled yet: head − the terminal's cursor (the whole log when it never pulled).",
      labelNames: ['terminal', 'cinema'] as const,
      registers,
      async collect() {
        this.reset();
        const health = await self.readHealth();
        for (const t of health?.terminals ?? []) this.set({ terminal: t.terminalId, cinema: t.cinemaId }, t.lag ?? health!.head);
      },
    });
    new Gauge({
      name: 'cinecard_sync_change_log_head',
      help: "The change log's head: the id of the newest change terminals pull.",
      registers,
      async collect() {
        this.remove(); // absent, not 0, when the read fails
        const health = await self.readHealth();
        if (health) this.set(health.head);
      },
    });
    new Gauge({
      name: 'cinecard_fraud_alerts_open',
      help: 'Fraud alerts whose card is still blacklisted at central, by kind (HQ closes one by clearing the card).',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        this.reset();
        const rows = await self.readFraud();
        if (rows) for (const [kind, n] of fraudCounts(rows, 'open')) this.set({ kind }, n);
      },
    });
    // Alerts are never deleted, so the stored count only grows: a counter, read from the database so
    // that it holds across restarts and instances.
    new Counter({
      name: 'cinecard_fraud_alerts_total',
      help: 'Fraud alerts raised by the shadow ledger (clone, replay, one card number on two chips), by kind.',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        this.reset();
        const rows = await self.readFraud();
        if (rows) for (const [kind, n] of fraudCounts(rows, 'total')) this.inc({ kind }, n);
      },
    });
    const backupGauge = (name: string, help: string, value: (list: readonly S['Backup'][]) => number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.remove();
          const list = await self.readBackups();
          const v = list && value(list);
          if (v !== undefined) this.set(v);
        },
      });
    const lastGood = (list: readonly S['Backup'][]) => list.find((b) => (b.status === 'made' || b.status === 'verified') && b.finishedAt)?.finishedAt;
    const seconds = (at: string | null | undefined) => (at ? Date.parse(at) / 1000 : undefined);
    backupGauge(
      'cinecard_backup_last_success_timestamp_seconds',
      "When the newest good backup (made or verified) finished, Unix seconds (its manifest's finishedAt); absent when there is none.",
      (list) => seconds(lastGood(list)),
    );
    backupGauge(
      'cinecard_backup_last_verified_timestamp_seconds',
      'When the newest verified backup passed its trial restore, Unix seconds; absent when there is none.',
      (list) => seconds(list.find((b) => b.status === 'verified')?.verifiedAt),
    );
    backupGauge('cinecard_backup_age_seconds', 'Seconds since the newest good backup finished; -1 when there is none.', (list) => {
      const at = lastGood(list);
      return at ? self.ageSeconds(at) : -1;
    });
    new Gauge({
      name: 'cinecard_ws_clients',
      help: 'Sync sockets (terminals waiting for pokes) open on this instance.',
      registers,
      collect() {
        this.set(self.current?.wsClients() ?? 0);
      },
    });
  }
}

/** Every kind (zero when none), plus any kind stored that this version does not know. */
function fraudCounts(rows: readonly { kind: string; total: number; open: number }[], which: 'total' | 'open'): Map<string, number> {
  const counts = new Map<string, number>(fraudKinds.map((k) => [k, 0]));
  for (const r of rows) counts.set(r.kind, (counts.get(r.kind) ?? 0) + r[which]);
  return counts;
}

/** Fraud alerts per kind in one grouped read (alerts are few; the card join is by primary key). */
export async function fraudAlertCounts(db: Knex): Promise<{ kind: string; total: number; open: number }[]> {
  const rows: { kind: string; total: number | string; open: number | string | null }[] = await db('fraud_alerts as a')
    .leftJoin('cards as c', 'c.card_no', 'a.card_no')
    .groupBy('a.kind')
    .select('a.kind')
    .count({ total: '*' })
    .select(db.raw('sum(case when c.blacklisted_at is not null then 1 else 0 end) as open'));
  return rows.map((r) => ({ kind: r.kind, total: Number(r.total), open: Number(r.open ?? 0) }));
}

// routes() and install() are called separately with the same platform; both need the one registry.
const perPlatform = new WeakMap<Platform, CentralMetrics>();

/** The metrics of the central instance built on this platform. */
export function metricsOf(platform: Platform): CentralMetrics {
  let metrics = perPlatform.get(platform);
  if (!metrics) {
    metrics = new CentralMetrics(platform.clock, platform.log);
    perPlatform.set(platform, metrics);
  }
  return metrics;
}
