/**
 * The Prometheus endpoint over real HTTP, on SQLite and PostgreSQL: the exposition is parsed and its
 * values checked against what the service was made to do (requests, sync batches, pulls, a clone,
 * a backup, a sync socket), the access rule (token / this machine only), a failing source, and two
 * centrals in one process keeping their own counts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { SYNC_SOCKET_PATH } from '../client/index.ts';
import { loadConfig } from '../config.ts';
import { describeCentral, ok, TestCentral, type EnrolledTerminal } from '../test-support/harness.ts';
import { soldCards, upload, wireOp } from '../sync/test-ops.ts';
import { metricsOf } from './metrics.ts';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A small parser of the text exposition format (samples only; comments skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const raw = m[3]!;
    samples.push({ name: m[1]!, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return samples;
}

class Scrape {
  constructor(
    readonly text: string,
    readonly samples: Sample[],
  ) {}

  /** Samples named `name` whose labels include `labels`. */
  all(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The one sample named `name` with `labels`, or undefined. */
  get(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.all(name, labels);
    assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
    return found[0]?.value;
  }

  /** Like get, 0 when absent (a counter not yet incremented). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.get(name, labels) ?? 0;
  }
}

async function scrapeResponse(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/metrics`, { headers });
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await scrapeResponse(url, headers);
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return new Scrape(text, parseExposition(text));
}

/** Retries `check` (a scrape and assertions) until it passes or `ms` is over. */
async function eventually<T>(check: () => Promise<T>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const latency = 'cinecard_http_request_duration_seconds';

describeCentral('metrics endpoint', (central, database) => {
  let cinemaId: string;
  let t1: EnrolledTerminal;
  let t2: EnrolledTerminal;
  let seq1 = 0;
  let seq2 = 0;

  before(async () => {
    const c = central();
    cinemaId = (await c.createCinema('Metrics cinema')).id;
    t1 = await c.enrolTerminal(cinemaId, 'Till 1');
    t2 = await c.enrolTerminal(cinemaId, 'Till 2');
  });

  it('times requests by route pattern, never by the URL with its ids', async () => {
    const c = central();
    const other = await c.createCinema('Unsynced cinema');
    const route = { method: 'GET', route: '/v1/cinemas/{cinemaId}', status_code: '200' };
    const missing = { method: 'GET', route: '/v1/cards/{cardNo}', status_code: '404' };
    const before = await scrape(c.url);
    for (let i = 0; i < 5; i += 1) ok(await c.admin.client.GET('/v1/cinemas/{cinemaId}', { params: { path: { cinemaId: other.id } } }));
    for (let i = 0; i < 3; i += 1) await c.admin.client.GET('/v1/cards/{cardNo}', { params: { path: { cardNo: '12345678901' } } });
    await fetch(`${c.url}/no/such/path/${other.id}`);
    const after = await scrape(c.url);
    assert.equal(after.count(`${latency}_count`, route) - before.count(`${latency}_count`, route), 5);
    assert.equal(after.count(`${latency}_count`, missing) - before.count(`${latency}_count`, missing), 3);
    assert.ok(after.count(`${latency}_count`, { route: 'unmatched', status_code: '404' }) >= 1);
    // Buckets are cumulative, 5 ms … 5 s, and +Inf holds every request.
    const buckets = after.all(`${latency}_bucket`, route);
    assert.deepEqual(
      buckets.map((b) => b.labels['le']),
      ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf'],
    );
    assert.equal(buckets.at(-1)!.value, after.get(`${latency}_count`, route));
    for (let i = 1; i < buckets.length; i += 1) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
    assert.ok(after.get(`${latency}_sum`, route)! > 0);
    // No id and no card number in any label of any sample.
    assert.ok(!after.text.includes(other.id), 'the cinema id appears in the metrics');
    assert.ok(!after.text.includes('12345678901'), 'the card number appears in the metrics');
    // The process metrics are there too.
    assert.ok(after.get('process_cpu_user_seconds_total')! > 0);
    assert.ok(after.get('nodejs_heap_size_used_bytes')! > 0);
  });

  it('counts sync batches and ops by result: applied, then a resend as duplicates', async () => {
    const c = central();
    const [a, b] = await soldCards(c, cinemaId, 2, 100);
    const ops = [wireOp(t1, ++seq1, a!.cardNo, 3, 2, 98), wireOp(t1, ++seq1, b!.cardNo, 3, 1, 99), wireOp(t1, ++seq1, a!.cardNo, 4, 1, 97)];
    const before = await scrape(c.url);
    const first = await upload(t1, ops);
    const again = await upload(t1, ops);
    const applied = first.results.filter((r) => r.outcome === 'applied').length;
    assert.equal(applied, 3);
    const after = await scrape(c.url);
    const delta = (labels: Record<string, string>) => after.count('cinecard_sync_ops_total', labels) - before.count('cinecard_sync_ops_total', labels);
    assert.equal(delta({ result: 'applied' }), applied);
    assert.equal(delta({ result: 'duplicate' }), again.results.filter((r) => r.outcome === 'duplicate').length);
    assert.equal(delta({ result: 'duplicate' }), 3);
    assert.equal(delta({ result: 'rejected' }), 0);
    assert.equal(after.count('cinecard_sync_batches_total') - before.count('cinecard_sync_batches_total'), 2);
    // A rejected op is counted with its reason.
    const unknown = await upload(t1, [wireOp(t1, ++seq1, '99999999999', 1, 1, 1)]);
    assert.equal(unknown.results[0]!.reason, 'card_unknown');
    const later = await scrape(c.url);
    assert.equal(later.count('cinecard_sync_ops_total', { result: 'rejected' }) - after.count('cinecard_sync_ops_total', { result: 'rejected' }), 1);
    assert.equal(later.count('cinecard_sync_ops_rejected_total', { reason: 'card_unknown' }) - after.count('cinecard_sync_ops_rejected_total', { reason: 'card_unknown' }), 1);
  });

  it("shows a terminal's pending changes until it pulls, and when it was last seen", async () => {
    const c = central();
    const labels = { terminal: t1.terminalId, cinema: cinemaId };
    const before = await scrape(c.url);
    const head = before.get('cinecard_sync_change_log_head')!;
    assert.ok(head > 0, 'the uploads wrote changes');
    // Till 1 uploaded but never pulled: everything is pending for it.
    assert.equal(before.get('cinecard_terminal_pending_changes', labels), head);
    const seen = before.get('cinecard_terminal_last_seen_seconds', labels)!;
    assert.ok(seen >= 0 && seen < 60, `last seen ${seen} s ago`);
    // It pulls to the end, then once more from there: central notes the cursor a pull starts from.
    let cursor = 0;
    let blacklistCursor = 0;
    for (let more = true; more; ) {
      const page = ok(await t1.client.GET('/v1/sync/changes', { params: { query: { cursor, blacklistCursor, limit: 5000 } } }));
      ({ cursor, blacklistCursor } = page);
      more = page.hasMore;
    }
    ok(await t1.client.GET('/v1/sync/changes', { params: { query: { cursor, blacklistCursor } } }));
    assert.equal(cursor, head);
    // Pull bookkeeping is written every couple of seconds.
    await eventually(async () => assert.equal((await scrape(c.url)).get('cinecard_terminal_pending_changes', labels), 0));
    // Till 2 has not synced at all: no series for it.
    assert.equal((await scrape(c.url)).all('cinecard_terminal_pending_changes', { terminal: t2.terminalId }).length, 0);
  });

  it('drops a revoked terminal from the terminal gauges (it is out of service, not quiet)', async () => {
    const c = central();
    const till = await c.enrolTerminal(cinemaId, 'Till to revoke');
    const [card] = await soldCards(c, cinemaId, 1, 10);
    await upload(till, [wireOp(till, 1, card!.cardNo, 3, 1, 9)]);
    const labels = { terminal: till.terminalId, cinema: cinemaId };
    await eventually(async () => assert.ok((await scrape(c.url)).get('cinecard_terminal_last_seen_seconds', labels) !== undefined));
    ok(await c.admin.client.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: till.terminalId } } }));
    await eventually(async () => {
      const after = await scrape(c.url);
      assert.equal(after.all('cinecard_terminal_last_seen_seconds', { terminal: till.terminalId }).length, 0);
      assert.equal(after.all('cinecard_terminal_pending_changes', { terminal: till.terminalId }).length, 0);
    });
    // HQ's sync health still lists it, with what it last said.
    const health = ok(await c.admin.client.GET('/v1/sync/health', { params: { query: { cinemaId } } }));
    assert.ok(health.terminals.some((t) => t.terminalId === till.terminalId));
  });

  it('moves the fraud gauges when a clone raises an alert, and the open one back when HQ clears the card', async () => {
    const c = central();
    const [a] = await soldCards(c, cinemaId, 1, 100);
    const kind = { kind: 'seq_reused' };
    const before = await scrape(c.url);
    assert.equal(before.get('cinecard_fraud_alerts_open', { kind: 'uid_mismatch' }), 0);
    await upload(t1, [wireOp(t1, ++seq1, a!.cardNo, 3, 1, 99)]);
    await upload(t2, [wireOp(t2, ++seq2, a!.cardNo, 3, 1, 99)]);
    const alerts = ok(await c.admin.client.GET('/v1/sync/fraud-alerts', { params: { query: { cardNo: a!.cardNo } } })).items;
    assert.deepEqual(alerts.map((x) => x.kind), ['seq_reused']);
    const after = await scrape(c.url);
    assert.equal(after.get('cinecard_fraud_alerts_open', kind)! - before.get('cinecard_fraud_alerts_open', kind)!, 1);
    assert.equal(after.get('cinecard_fraud_alerts_total', kind)! - before.get('cinecard_fraud_alerts_total', kind)!, 1);
    ok(await c.admin.client.POST('/v1/cards/{cardNo}/unblacklist', { params: { path: { cardNo: a!.cardNo } }, body: { reason: 'checked: a till fault' } }));
    const cleared = await scrape(c.url);
    assert.equal(cleared.get('cinecard_fraud_alerts_open', kind), before.get('cinecard_fraud_alerts_open', kind));
    assert.equal(cleared.get('cinecard_fraud_alerts_total', kind), after.get('cinecard_fraud_alerts_total', kind));
  });

  it('counts open sync sockets', async () => {
    const c = central();
    assert.equal((await scrape(c.url)).get('cinecard_ws_clients'), 0);
    const ws = new WebSocket(`${c.url.replace(/^http/, 'ws')}${SYNC_SOCKET_PATH}`, { headers: { authorization: `Bearer ${t2.token}` } });
    await new Promise((resolve, reject) => {
      ws.once('message', resolve);
      ws.once('error', reject);
    });
    try {
      assert.equal((await scrape(c.url)).get('cinecard_ws_clients'), 1);
    } finally {
      ws.close();
    }
    await eventually(async () => assert.equal((await scrape(c.url)).get('cinecard_ws_clients'), 0));
  });

  it("gives the backup times: none yet (age -1), then the manifest's", async function () {
    this.timeout(120_000);
    const c = central();
    const none = await scrape(c.url);
    assert.equal(none.get('cinecard_backup_age_seconds'), -1);
    assert.equal(none.get('cinecard_backup_last_success_timestamp_seconds'), undefined);
    assert.equal(none.get('cinecard_backup_last_verified_timestamp_seconds'), undefined);
    const started = ok(await c.admin.client.POST('/v1/backups'));
    let backup = started;
    for (let i = 0; i < 1200 && backup.status === 'running'; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      backup = ok(await c.admin.client.GET('/v1/backups')).items.find((b) => b.id === started.id) ?? backup;
    }
    assert.equal(backup.status, 'verified', backup.error ?? '');
    const manifest = JSON.parse(readFileSync(join(c.platform.config.backup.directory!, `${backup.id}.manifest.json`), 'utf8')) as { finishedAt: string };
    const after = await scrape(c.url);
    assert.equal(after.get('cinecard_backup_last_success_timestamp_seconds'), Date.parse(manifest.finishedAt) / 1000);
    assert.equal(after.get('cinecard_backup_last_verified_timestamp_seconds'), Date.parse(backup.verifiedAt!) / 1000);
    const age = after.get('cinecard_backup_age_seconds')!;
    assert.ok(age >= 0 && age < 120, `backup age ${age}`);
  });

  it('answers the other metrics when one source fails, and counts the failure', async () => {
    const c = central();
    const metrics = metricsOf(c.platform);
    const sources = metrics.readFrom({ ...metrics.sources!, fraudAlerts: () => Promise.reject(new Error('relation "fraud_alerts" is gone')) });
    try {
      const s = await scrape(c.url);
      assert.equal(s.all('cinecard_fraud_alerts_open').length, 0);
      assert.equal(s.all('cinecard_fraud_alerts_total').length, 0);
      assert.equal(s.get('cinecard_metrics_source_errors_total', { source: 'fraud_alerts' }), 1);
      assert.ok(s.get('cinecard_sync_change_log_head')! > 0);
      assert.ok(c.logLines.some((l) => l.includes('metrics: a scrape-time read failed') && l.includes('fraud_alerts')));
    } finally {
      metrics.readFrom(sources!);
    }
    assert.equal((await scrape(c.url)).all('cinecard_fraud_alerts_open').length, 3);
  });

  it('without a token serves this machine only: a request a proxy relayed is refused', async () => {
    const c = central();
    const relayed = await scrapeResponse(c.url, { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(relayed.status, 403);
    assert.equal(((await relayed.json()) as { code: string }).code, 'metrics_local_only');
    // An API token changes nothing: it is not what guards metrics.
    assert.equal((await scrapeResponse(c.url, { authorization: `Bearer ${c.admin.token}` })).status, 200);
  });

  it('with a token: 401 without it or with another; and a second central keeps its own registry', async () => {
    const token = randomBytes(24).toString('hex');
    const second = await TestCentral.start(database, { metrics: { token } });
    try {
      const bearer = { authorization: `Bearer ${token}` };
      for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${token}x` }, { authorization: `Bearer ${second.admin.token}` }, { authorization: token }]) {
        const refused = await scrapeResponse(second.url, headers);
        assert.equal(refused.status, 401, JSON.stringify(headers));
        assert.equal(((await refused.json()) as { code: string }).code, 'metrics_token_required');
      }
      // With the token, even relayed by a proxy.
      const firstBefore = await scrape(central().url);
      const secondBefore = await scrape(second.url, { ...bearer, 'x-forwarded-for': '203.0.113.9' });
      const route = { method: 'GET', route: '/v1/health', status_code: '200' };
      for (let i = 0; i < 4; i += 1) ok(await second.client().GET('/v1/health'));
      const firstAfter = await scrape(central().url);
      const secondAfter = await scrape(second.url, bearer);
      assert.equal(secondAfter.count(`${latency}_count`, route) - secondBefore.count(`${latency}_count`, route), 4);
      assert.equal(firstAfter.count(`${latency}_count`, route), firstBefore.count(`${latency}_count`, route));
      // The second one has no sync traffic of the first.
      assert.equal(secondAfter.get('cinecard_sync_ops_total', { result: 'applied' }), 0);
      assert.ok(firstAfter.get('cinecard_sync_ops_total', { result: 'applied' })! > 0);
      assert.notEqual(metricsOf(second.platform).registry, metricsOf(central().platform).registry);
    } finally {
      await second.close();
    }
  });

  it('is not served when metrics.enabled is false', async () => {
    const off = await TestCentral.start(database, { metrics: { enabled: false } });
    try {
      const response = await scrapeResponse(off.url);
      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { code: string }).code, 'route_not_found');
    } finally {
      await off.close();
    }
  });
});

describe('metrics settings', () => {
  it('takes the token from CINECARD_METRICS_TOKEN over the file, and wants a long one', () => {
    const env = { CINECARD_JWT_SECRET: 'j'.repeat(32), CINECARD_METRICS_TOKEN: 't'.repeat(20) };
    const config = loadConfig(undefined, env);
    assert.deepEqual(config.metrics, { enabled: true, token: 't'.repeat(20) });
    assert.deepEqual(loadConfig(undefined, { CINECARD_JWT_SECRET: 'j'.repeat(32) }).metrics, { enabled: true });
    assert.throws(() => loadConfig(undefined, { ...env, CINECARD_METRICS_TOKEN: 'short' }), /metrics\.token: must be at least 16 characters/);
  });
});
