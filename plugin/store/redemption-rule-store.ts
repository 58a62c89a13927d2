/**
 * The cinema's redemption rules as the terminal holds them (a replica of central's, by version).
 * Every tap needs them, so they are kept in memory after the first read; write them only through
 * {@link RedemptionRuleStore.put} (sync included), which refreshes that copy.
 */
import type { Knex } from 'knex';
import { RedemptionRules, type RedemptionRule } from '../redemption/redemption-rules.ts';

export class RedemptionRuleStore {
  private readonly cache = new Map<string, readonly RedemptionRule[]>();

  constructor(private readonly db: Knex) {}

  async rules(cinemaId: string): Promise<readonly RedemptionRule[]> {
    const cached = this.cache.get(cinemaId);
    if (cached) return cached;
    const row = await this.db('redemption_rules').where({ cinema_id: cinemaId }).first<{ rules: string } | undefined>('rules');
    const rules = row ? RedemptionRules.parse(JSON.parse(row.rules)) : [];
    this.cache.set(cinemaId, rules);
    return rules;
  }

  async version(cinemaId: string): Promise<number | undefined> {
    const row = await this.db('redemption_rules').where({ cinema_id: cinemaId }).first<{ version: number } | undefined>('version');
    return row?.version;
  }

  /** Replaces the cinema's rules (validated) with `version`. */
  async put(cinemaId: string, version: number, rules: readonly RedemptionRule[]): Promise<void> {
    const valid = RedemptionRules.parse(rules);
    this.cache.delete(cinemaId);
    await this.db('redemption_rules').insert({ cinema_id: cinemaId, version, rules: JSON.stringify(valid) }).onConflict('cinema_id').merge();
    this.cache.delete(cinemaId);
  }
}
