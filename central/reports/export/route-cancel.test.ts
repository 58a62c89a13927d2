/**
 * A long export through the real route (`GET /v1/reports/export`, the redemption detail read from
 * the database a page at a time) stops cleanly when the client goes away: the export is logged as
 * stopped, no page is read after that, and the service goes on answering.
 */
import assert from 'node:assert/strict';
import { dialectOf } from '../../store/database.ts';
import { describeCentral } from '../../test-support/harness.ts';
import { makeCards } from '../../cards/card-fixtures.ts';
import { exportPageSize } from '../statistics.ts';

/** Enough rows that the whole file (~6 MB) cannot sit in the socket's buffers before the client leaves. */
const rows = 100_000;

describeCentral('report export over the API: the client goes away', (central) => {
  let pagesRead = 0;

  before(async () => {
    const c = central();
    const cinema = await c.createCinema('Cinema A');
    const [card] = await makeCards(c, 1);
    const db = c.platform.db;
    const series =
      dialectOf(db) === 'postgres'
        ? `SELECT x FROM generate_series(0, ${rows - 1}) AS n(x)`
        : `WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < ${rows - 1}) SELECT x FROM n`;
    const at = dialectOf(db) === 'postgres' ? `to_char(timestamp '2025-01-01' + x * interval '30 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : `strftime('%Y-%m-%dT%H:%M:%fZ', 1735689600 + x * 30, 'unixepoch')`;
    const opId = dialectOf(db) === 'postgres' ? `CAST('00000000-0000-7000-8000-' || lpad(CAST(x AS text), 12, '0') AS uuid)` : `printf('00000000-0000-7000-8000-%012d', x)`;
    await db.raw(
      `INSERT INTO ledger_entries (op_id, card_no, seq, kind, uses_delta, remaining_after, consumption_type, amount_fen, cinema_id,
         terminal_id, user_id, cashier, occurred_at, recorded_at, content_hash, status, anomaly, issue_epoch)
       SELECT ${opId}, ?, 3 + x, 'redeem', -1, 1, 'ticket', 3500, ?, NULL, NULL, 'cashier', ${at}, ${at}, 'h', 'applied', NULL, 1
       FROM (${series}) AS s`,
      [card!.cardNo, cinema.id],
    );
    db.on('query', (query: { sql: string }) => {
      if (/from [`"]ledger_entries[`"]/i.test(query.sql) && /order by/i.test(query.sql)) pagesRead += 1;
    });
  });

  it('stops reading pages, logs the export as stopped and goes on serving', async () => {
    const c = central();
    const leave = new AbortController();
    const response = await fetch(`${c.url}/v1/reports/export?report=redemptions&format=xlsx`, {
      headers: { authorization: `Bearer ${c.admin.token}` },
      signal: leave.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    assert.equal((await reader.read()).done, false, 'the file started');
    leave.abort();

    // The export's outcome is logged once it settles: exported, failed, or stopped.
    const outcome = () => c.logLines.map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '').find((msg) => /^report export/.test(msg));
    while (outcome() === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(outcome(), 'report export stopped: the client went away');
    const atStop = pagesRead;
    assert.ok(atStop >= 1 && atStop < rows / exportPageSize, `stopped after ${atStop} of ${rows / exportPageSize} pages`);

    // The service answers the next request, and the abandoned export has read nothing more.
    assert.equal((await fetch(`${c.url}/v1/health`)).status, 200);
    assert.equal(pagesRead, atStop, 'no page read after the export stopped');
    const page = await c.admin.client.GET('/v1/reports/redemptions', { params: { query: { limit: 2 } } });
    assert.equal(page.data?.items.length, 2);
  });
});
