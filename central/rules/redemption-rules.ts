/**
 * Each cinema's redemption rules: how many uses a ticket costs (by film, format and day part, and
 * optionally card type), and what one use pays at the concession stand. The cinema's manager keeps
 * them; its terminals read them to pre-fill the redemption popup.
 */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { CentralError } from '../errors.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';
import { appendChanges } from '../sync/change-log.ts';
import { ruleMessages } from './messages.ts';
import { cardTypeMessages } from '../card-types/messages.ts';
import type { CinemaStore } from '../cinemas/cinema-store.ts';
import { cinemaMessages } from '../cinemas/messages.ts';

type Schemas = components['schemas'];
export type RedemptionRule = Schemas['RedemptionRule'];
export type RedemptionRuleCreate = Schemas['RedemptionRuleCreate'];
export type RedemptionRuleUpdate = Schemas['RedemptionRuleUpdate'];

interface RuleRow {
  id: string;
  cinema_id: string;
  kind: 'ticket' | 'concession';
  name: string;
  card_type_id: string | null;
  film: string | null;
  format: string | null;
  day_part_from: string | null;
  day_part_to: string | null;
  uses_per_ticket: number | null;
  value_per_use_fen: number | null;
  priority: number;
  created_at: string;
  updated_at: string;
}

function ruleView(row: RuleRow): RedemptionRule {
  return {
    id: row.id,
    cinemaId: row.cinema_id,
    kind: row.kind,
    name: row.name,
    cardTypeId: row.card_type_id,
    film: row.film,
    format: row.format,
    dayPart: row.day_part_from !== null && row.day_part_to !== null ? { from: row.day_part_from, to: row.day_part_to } : null,
    usesPerTicket: row.uses_per_ticket,
    valuePerUseFen: row.value_per_use_fen,
    priority: row.priority,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A rule's fields must fit its kind: tickets cost uses, concessions have a value per use. */
function requireConsistent(row: RuleRow): void {
  const kind = row.kind;
  if (kind === 'ticket') {
    if (row.uses_per_ticket === null) throw new CentralError(ruleMessages.rule_incomplete, { kind, field: 'usesPerTicket' });
    if (row.value_per_use_fen !== null) throw new CentralError(ruleMessages.rule_field_not_allowed, { kind, field: 'valuePerUseFen' });
  } else {
    if (row.value_per_use_fen === null) throw new CentralError(ruleMessages.rule_incomplete, { kind, field: 'valuePerUseFen' });
    for (const [field, value] of [['usesPerTicket', row.uses_per_ticket], ['film', row.film], ['format', row.format], ['dayPart', row.day_part_from]] as const) {
      if (value !== null) throw new CentralError(ruleMessages.rule_field_not_allowed, { kind, field });
    }
  }
  if (row.day_part_from !== null && row.day_part_from === row.day_part_to) {
    throw new CentralError(ruleMessages.day_part_empty, { from: row.day_part_from, to: row.day_part_to ?? '' });
  }
}

export class RedemptionRules {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly cinemas: CinemaStore,
  ) {}

  /** Highest priority first; ties by name. */
  async list(cinemaId: string, db: Knex = this.db): Promise<RedemptionRule[]> {
    await this.requireCinemaExists(db, cinemaId);
    const rows = await db<RuleRow>('redemption_rules').where({ cinema_id: cinemaId }).orderBy([
      { column: 'priority', order: 'desc' },
      { column: 'name' },
      { column: 'id' },
    ]);
    return rows.map(ruleView);
  }

  async create(actor: Principal, cinemaId: string, input: RedemptionRuleCreate): Promise<RedemptionRule> {
    const now = isoTime(this.clock.now());
    const row: RuleRow = {
      id: newId(),
      cinema_id: cinemaId,
      kind: input.kind,
      name: input.name,
      card_type_id: input.cardTypeId ?? null,
      film: input.film ?? null,
      format: input.format ?? null,
      day_part_from: input.dayPart?.from ?? null,
      day_part_to: input.dayPart?.to ?? null,
      uses_per_ticket: input.usesPerTicket ?? null,
      value_per_use_fen: input.valuePerUseFen ?? null,
      priority: input.priority ?? 0,
      created_at: now,
      updated_at: now,
    };
    requireConsistent(row);
    return this.db.transaction(async (trx) => {
      await this.requireCinemaExists(trx, cinemaId);
      await this.requireCardType(trx, row.card_type_id);
      await trx('redemption_rules').insert(row);
      await this.audit.record(trx, actor, { action: 'redemption_rule.create', targetType: 'redemption_rule', targetId: row.id, cinemaId, details: { ...input } });
      await this.publish(trx, cinemaId, now);
      return ruleView(row);
    });
  }

  async update(actor: Principal, cinemaId: string, ruleId: string, patch: RedemptionRuleUpdate): Promise<RedemptionRule> {
    return this.db.transaction(async (trx) => {
      const before = await this.find(trx, cinemaId, ruleId);
      const row: RuleRow = { ...before, updated_at: isoTime(this.clock.now()) };
      if (patch.name !== undefined) row.name = patch.name;
      if (patch.cardTypeId !== undefined) row.card_type_id = patch.cardTypeId;
      if (patch.film !== undefined) row.film = patch.film;
      if (patch.format !== undefined) row.format = patch.format;
      if (patch.dayPart !== undefined) {
        row.day_part_from = patch.dayPart?.from ?? null;
        row.day_part_to = patch.dayPart?.to ?? null;
      }
      if (patch.usesPerTicket !== undefined) row.uses_per_ticket = patch.usesPerTicket;
      if (patch.valuePerUseFen !== undefined) row.value_per_use_fen = patch.valuePerUseFen;
      if (patch.priority !== undefined) row.priority = patch.priority;
      requireConsistent(row);
      await this.requireCardType(trx, row.card_type_id);
      const { id: _id, ...columns } = row;
      await trx('redemption_rules').where({ id: ruleId }).update(columns);
      await this.audit.record(trx, actor, { action: 'redemption_rule.update', targetType: 'redemption_rule', targetId: ruleId, cinemaId, details: { changes: { ...patch } } });
      await this.publish(trx, cinemaId, row.updated_at);
      return ruleView(row);
    });
  }

  async remove(actor: Principal, cinemaId: string, ruleId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      const before = await this.find(trx, cinemaId, ruleId);
      await trx('redemption_rules').where({ id: ruleId }).delete();
      await this.audit.record(trx, actor, { action: 'redemption_rule.delete', targetType: 'redemption_rule', targetId: ruleId, cinemaId, details: { before: ruleView(before) } });
      await this.publish(trx, cinemaId, isoTime(this.clock.now()));
    });
  }

  /** The cinema's rules, whole, into the change log its terminals pull (last: it takes the head lock). */
  private async publish(trx: Knex.Transaction, cinemaId: string, now: string): Promise<void> {
    const rules = await this.list(cinemaId, trx);
    await appendChanges(trx, [{ stream: 'data', entity: 'rules', key: cinemaId, cinemaId, payload: rules }], now);
  }

  private async find(trx: Knex, cinemaId: string, ruleId: string): Promise<RuleRow> {
    const row = await trx<RuleRow>('redemption_rules').where({ id: ruleId, cinema_id: cinemaId }).first();
    if (!row) throw new CentralError(ruleMessages.rule_not_found, { cinemaId, ruleId });
    return row;
  }

  private async requireCinemaExists(db: Knex, cinemaId: string): Promise<void> {
    if (!(await this.cinemas.findById(cinemaId, db))) throw new CentralError(cinemaMessages.cinema_not_found, { cinemaId });
  }

  /** An unknown card type is a 404, not a database error. */
  private async requireCardType(db: Knex, cardTypeId: string | null): Promise<void> {
    if (cardTypeId === null) return;
    const found = await db('card_types').where({ id: cardTypeId }).first('id');
    if (!found) throw new CentralError(cardTypeMessages.card_type_not_found, { cardTypeId });
  }
}
