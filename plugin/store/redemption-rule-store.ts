/** The cinema's redemption rules as the terminal holds them (a replica of central's, by version). */
import type { Knex } from 'knex';
import { RedemptionRules, type RedemptionRule } from '../redemption/redemption-rules.ts';

export class RedemptionRuleStore {
  constructor(private readonly db: Knex) {}

  async rules(cinemaId: string): Promise<RedemptionRule[]> {
    const row = await this.db('redemption_rules').where({ cinema_id: cinemaId }).first<{ rules: string } | undefined>('rules');
    return row ? RedemptionRules.parse(JSON.parse(row.rules)) : [];
  }

  async version(cinemaId: string): Promise<number | undefined> {
    const row = await this.db('redemption_rules').where({ cinema_id: cinemaId }).first<{ version: number } | undefined>('version');
    return row?.version;
  }

  /** Replaces the cinema's rules (validated) with `version`. */
  async put(cinemaId: string, version: number, rules: readonly RedemptionRule[]): Promise<void> {
    const valid = RedemptionRules.parse(rules);
    await this.db('redemption_rules').insert({ cinema_id: cinemaId, version, rules: JSON.stringify(valid) }).onConflict('cinema_id').merge();
  }
}
