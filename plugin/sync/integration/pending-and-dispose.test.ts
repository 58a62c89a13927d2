/**
 * What a host reads of sync and what it may expect of `dispose()`, against a real central: the
 * pending count counts every op recorded and not yet acknowledged at every moment (also while its
 * upload is in flight), and disposing with sync rounds in flight lets them finish against the still
 * open database — nothing logged as failed, nothing left running.
 */
import assert from 'node:assert/strict';
import { describeCentral, type EnrolledTerminal } from '../../../central/test-support/harness.ts';
import { soldCards } from '../../../central/sync/test-ops.ts';
import { ScreenBench } from '../../screens/screen-test-kit.ts';
import { TERMINAL } from '../../test-support/redemption-harness.ts';
import { eventually, SimTerminal, type SimCard } from './terminal-fixture.ts';

describeCentral('plugin sync: the pending count and dispose', (central) => {
  let cinemaId: string;
  let card: SimCard;
  const cleanup: (() => Promise<void>)[] = [];

  before(async () => {
    cinemaId = (await central().createCinema('Pending count cinema')).id;
    const [c] = await soldCards(central(), cinemaId, 1);
    card = { cardNo: c!.cardNo, uid: c!.uid, seq: 2, remaining: c!.remainingUses };
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const ledgerCount = async (terminal: EnrolledTerminal) =>
    Number((await central().platform.db('ledger_entries').where({ terminal_id: terminal.terminalId }).count<{ n: number }[]>('* as n'))[0]!.n);

  it('pendingOps counts an op from its commit until central acknowledged it: at once, while its upload is in flight, and 0 only once central has it', async () => {
    const t = await SimTerminal.open(await central().enrolTerminal(cinemaId));
    cleanup.push(() => t.close());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    cleanup.push(async () => release()); // a failed assertion must not leave the upload held
    let uploads = 0;
    const held: typeof fetch = async (input, init) => {
      if (String((input as Request).url ?? input).includes('/v1/sync/batches')) {
        uploads += 1;
        await gate;
      }
      return fetch(input, init);
    };
    const service = t.sync([central().url], { fetch: held, idleCheckMs: 10 });
    service.start();
    // Whenever the service says nothing is pending, central must already hold every op recorded.
    let recorded = 0;
    const zeroes: Promise<void>[] = [];
    service.onStatus((s) => {
      if (s.pendingOps === 0 && recorded > 0) zeroes.push(ledgerCount(t.enrolled).then((n) => assert.equal(n, recorded, 'pendingOps read 0 before central had every op')));
    });

    await t.redeem(card);
    recorded = 1;
    assert.equal(service.status.pendingOps, 1, 'counted the moment it is recorded');
    await eventually(() => uploads === 1, 5000, 'its upload in flight');
    assert.equal(service.status.pendingOps, 1, 'an op being uploaded is still pending');
    await t.redeem(card);
    recorded = 2;
    assert.equal(service.status.pendingOps, 2);
    release();
    await eventually(() => service.status.pendingOps === 0, 10_000, 'every op acknowledged');
    assert.equal(await ledgerCount(t.enrolled), 2);
    assert.equal(await t.store.pendingCount(), 0);
    await Promise.all(zeroes);
    assert.ok(zeroes.length > 0);
  });

  it('dispose with syncNow rounds in flight: each finishes or is refused as disposed, nothing is logged as failed, no timer is left', async () => {
    const enrolled = await central().enrolTerminal(cinemaId);
    const bench = await new ScreenBench().start({
      identity: { terminalId: enrolled.terminalId, cinemaId },
      config: { terminal: { ...TERMINAL, terminalId: enrolled.terminalId, cinemaId }, central: { urls: [central().url], terminalSecret: enrolled.secret, pokes: false } },
    });
    cleanup.push(() => bench.stop());
    const { plugin, host } = bench;
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    for (let i = 0; i < 20; i++) {
      card.seq += 1;
      card.remaining -= 1;
      await plugin.store.write((trx) => plugin.store.appendOp(trx, { kind: 'redeem', cardNo: card.cardNo, cardSeq: card.seq, uses: 1, remainingAfter: card.remaining, consumption: 'ticket', payload: { uid: card.uid } }));
    }
    // A cashier pressing "sync now" again and again, then the host shutting down.
    const rounds = Array.from({ length: 5 }, () => plugin.sync.syncNow().then(() => 'done', (e: Error) => e.message));
    await plugin.dispose();
    const outcomes = await Promise.all(rounds);
    for (const o of outcomes) assert.ok(o === 'done' || /disposed/.test(o), o);
    assert.deepEqual(host.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.level}: ${l.msg} ${JSON.stringify(l.fields)}`), []);
    await assert.rejects(plugin.sync.syncNow(), /disposed/, 'no new round after dispose');
    await new Promise((r) => setImmediate(r));
    assert.ok(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length <= timersBefore, 'no timer left behind');
    assert.equal(await ledgerCount(enrolled), 20, 'what was uploaded before dispose is at central');
  });
});
