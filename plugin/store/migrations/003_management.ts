import type { Knex } from 'knex';

/**
 * What the management screens need beyond 002: a local user can be disabled (kept for the ops that
 * name them), and a card type carries its terms — uses per card and validity — so a sale or a
 * re-issue offers the type's defaults without asking central.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.string('disabled_at');
  });
  await knex.schema.alterTable('card_types', (t) => {
    t.integer('uses_per_card');
    t.integer('validity_days');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('card_types', (t) => {
    t.dropColumn('uses_per_card');
    t.dropColumn('validity_days');
  });
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('disabled_at');
  });
}
