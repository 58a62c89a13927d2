/**
 * A cinema's redemption rules (the same shape as central's `RedemptionRule`, spec/openapi.yaml) and
 * how a basket becomes a pre-filled deduction: tickets by film / format / day part → uses per ticket,
 * the highest-priority matching rule winning per ticket; concessions by value per use. The cashier
 * may change the result within their permission; this only proposes.
 */
import { z } from 'zod';
import type { Sale } from '../../adapters/host-sale.ts';

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/);

export const RedemptionRule = z.object({
  id: z.string(),
  kind: z.enum(['ticket', 'concession']),
  name: z.string(),
  cardTypeId: z.string().nullable(),
  film: z.string().nullable(),
  format: z.string().nullable(),
  /** `to` before `from` wraps past midnight. */
  dayPart: z.object({ from: hhmm, to: hhmm }).nullable(),
  usesPerTicket: z.number().int().min(1).nullable(),
  valuePerUseFen: z.number().int().min(1).nullable(),
  priority: z.number().int(),
});
export type RedemptionRule = z.infer<typeof RedemptionRule>;
export const RedemptionRules = z.array(RedemptionRule);

export type Consumption = 'ticket' | 'concession';

/** What the popup proposes for a consumption type. */
export interface Deduction {
  readonly consumption: Consumption;
  readonly uses: number;
  /** The sale lines covered. */
  readonly lineIds: readonly string[];
  /** What the covered lines cost at the host's prices, fen (the tender amount). */
  readonly amountFen: number;
  /** Whether a rule priced every covered line (false: a default of one use per ticket was used). */
  readonly byRule: boolean;
}

/** Minutes after midnight of a showtime, in the showtime's own offset (the cinema's local time). */
function localMinutes(showtime: string): number | undefined {
  const m = /T(\d{2}):(\d{2})/.exec(showtime);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

const minutes = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

function inDayPart(showtime: string, part: { from: string; to: string }): boolean {
  const t = localMinutes(showtime);
  if (t === undefined) return false;
  const from = minutes(part.from), to = minutes(part.to);
  return from <= to ? t >= from && t < to : t >= from || t < to;
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

function byPriority(rules: readonly RedemptionRule[], kind: Consumption, cardTypeId: string | null): RedemptionRule[] {
  return rules
    .filter((r) => r.kind === kind && (r.cardTypeId === null || r.cardTypeId === cardTypeId))
    .sort((a, b) => b.priority - a.priority);
}

/** The deduction for each consumption type the sale allows. */
export function proposeDeductions(sale: Sale | undefined, rules: readonly RedemptionRule[], cardTypeId: string | null): Record<Consumption, Deduction> {
  const tickets = sale?.tickets ?? [];
  const ticketRules = byPriority(rules, 'ticket', cardTypeId);
  let ticketUses = 0;
  let allByRule = true;
  for (const line of tickets) {
    const rule = ticketRules.find(
      (r) => (r.film === null || same(r.film, line.film)) && (r.format === null || same(r.format, line.format)) && (r.dayPart === null || inDayPart(line.showtime, r.dayPart)),
    );
    if (rule?.usesPerTicket) ticketUses += rule.usesPerTicket;
    else {
      ticketUses += 1;
      allByRule = false;
    }
  }
  const ticket: Deduction = {
    consumption: 'ticket',
    uses: Math.max(1, ticketUses),
    lineIds: tickets.map((l) => l.lineId),
    amountFen: tickets.reduce((sum, l) => sum + l.priceFen, 0),
    byRule: tickets.length > 0 && allByRule,
  };

  const concessions = sale?.concessions ?? [];
  const value = concessions.reduce((sum, l) => sum + l.quantity * l.unitPriceFen, 0);
  const perUse = byPriority(rules, 'concession', cardTypeId)[0]?.valuePerUseFen ?? null;
  const concession: Deduction = {
    consumption: 'concession',
    uses: perUse ? Math.max(1, Math.ceil(value / perUse)) : 1,
    lineIds: concessions.map((l) => l.lineId),
    amountFen: value,
    byRule: concessions.length > 0 && perUse !== null,
  };
  return { ticket, concession };
}

/** The consumption type to pre-select: tickets when the sale has any, else concessions when it has those. */
export function defaultConsumption(sale: Sale | undefined): Consumption {
  return !sale || sale.tickets.length > 0 || sale.concessions.length === 0 ? 'ticket' : 'concession';
}

/**
 * The tender amount for `uses` of a consumption type: tickets pay their lines; concessions pay
 * `uses × value per use`, at most the concession lines' total.
 */
export function tenderAmount(d: Deduction, uses: number, rules: readonly RedemptionRule[], cardTypeId: string | null): number {
  if (d.consumption === 'ticket') return d.amountFen;
  const perUse = byPriority(rules, 'concession', cardTypeId)[0]?.valuePerUseFen ?? null;
  return perUse ? Math.min(d.amountFen, uses * perUse) : d.amountFen;
}
