import assert from 'node:assert/strict';
import type { Sale } from '../../adapters/host-sale.ts';
import { defaultConsumption, proposeDeductions, tenderAmount, type RedemptionRule } from './redemption-rules.ts';

const base: RedemptionRule = { id: 'r0', kind: 'ticket', name: 'all', cardTypeId: null, film: null, format: null, dayPart: null, usesPerTicket: 1, valuePerUseFen: null, priority: 0 };
const rules: RedemptionRule[] = [
  base,
  { ...base, id: 'imax', format: 'IMAX', usesPerTicket: 2, priority: 10 },
  { ...base, id: 'late', dayPart: { from: '22:00', to: '02:00' }, usesPerTicket: 3, priority: 20 },
  { ...base, id: 'vip-type', cardTypeId: 'type-vip', usesPerTicket: 5, priority: 100 },
  { ...base, id: 'film', film: '沙丘', usesPerTicket: 4, priority: 5 },
  { ...base, id: 'conc', kind: 'concession', usesPerTicket: null, valuePerUseFen: 2000 },
];
const ticket = (lineId: string, format: string, time: string, film = '流浪地球3') => ({ lineId, film, format, showtime: `2026-11-25T${time}:00+08:00`, priceFen: 5000 });
const sale = (over: Partial<Sale> = {}): Sale => ({ saleId: 'S', tickets: [], concessions: [], dueFen: 0, ...over });

describe('redemption rules → pre-filled deduction', () => {
  it('each ticket takes the highest-priority matching rule: format, film, day part (wrapping midnight)', () => {
    const d = proposeDeductions(sale({ tickets: [ticket('a', '2D', '14:00'), ticket('b', 'imax', '14:00'), ticket('c', '2D', '23:30'), ticket('d', '2D', '01:15'), ticket('e', '2D', '14:00', '沙丘')] }), rules, null);
    assert.equal(d.ticket.uses, 1 + 2 + 3 + 3 + 4);
    assert.deepEqual(d.ticket.lineIds, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(d.ticket.amountFen, 25_000);
    assert.equal(d.ticket.byRule, true);
  });

  it('a rule for one card type applies only to that type', () => {
    const s = sale({ tickets: [ticket('a', '2D', '14:00')] });
    assert.equal(proposeDeductions(s, rules, 'type-vip').ticket.uses, 5);
    assert.equal(proposeDeductions(s, rules, 'type-other').ticket.uses, 1);
  });

  it('no matching rule: one use per ticket, flagged', () => {
    const d = proposeDeductions(sale({ tickets: [ticket('a', '2D', '14:00'), ticket('b', '3D', '14:00')] }), [], null);
    assert.equal(d.ticket.uses, 2);
    assert.equal(d.ticket.byRule, false);
  });

  it('concessions: value per use, rounded up; the tender is uses × value, at most the lines', () => {
    const s = sale({ concessions: [{ lineId: 'p', sku: 'POP', name: '爆米花', quantity: 2, unitPriceFen: 2500 }] });
    const d = proposeDeductions(s, rules, null);
    assert.equal(d.concession.uses, 3);
    assert.equal(tenderAmount(d.concession, 3, rules, null), 5000);
    assert.equal(tenderAmount(d.concession, 1, rules, null), 2000);
    assert.equal(defaultConsumption(s), 'concession');
    assert.equal(defaultConsumption(undefined), 'ticket');
  });

  it('no sale: one use, nothing covered', () => {
    const d = proposeDeductions(undefined, rules, null);
    assert.equal(d.ticket.uses, 1);
    assert.deepEqual(d.ticket.lineIds, []);
    assert.equal(d.ticket.amountFen, 0);
  });
});
