/**
 * Refresh tokens: one row per token, stored as SHA-256. Tokens of one login share a `family_id`;
 * each is used once (`used_at`), and reusing one revokes the family.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('refresh_tokens', (t) => {
    t.uuid('id').primary();
    t.string('token_hash', 64).notNullable().unique();
    t.uuid('family_id').notNullable();
    t.uuid('user_id').notNullable().references('id').inTable('users');
    t.uuid('terminal_id').nullable().references('id').inTable('terminals');
    t.string('issued_at', 24).notNullable();
    t.string('expires_at', 24).notNullable();
    t.string('used_at', 24).nullable();
    t.string('revoked_at', 24).nullable();
    t.index(['family_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('refresh_tokens');
}
