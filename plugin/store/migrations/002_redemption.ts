import type { Knex } from 'knex';

/**
 * What the redemption flow needs beyond 001: the journal keeps everything needed to rebuild the
 * pending write after a crash, the card cache knows a card's type and whether it waits to be
 * recycled, and the card types central publishes map the card's u8 type code to its id and name.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('card_journal', (t) => {
    t.integer('previous_seq').notNullable().defaultTo(0);
    t.string('target_copy').notNullable().defaultTo('A');
  });
  await knex.schema.alterTable('cards', (t) => {
    t.integer('card_type_code');
    t.string('recycled_reason'); // exhausted | returned; set while the card waits to be collected
    t.string('recycled_at');
  });
  await knex.schema.createTable('card_types', (t) => {
    t.integer('code').primary(); // the u8 type code on the card
    t.string('card_type_id').notNullable().unique();
    t.string('name').notNullable();
    t.integer('price_per_use_fen');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('card_types');
  await knex.schema.alterTable('cards', (t) => {
    t.dropColumn('card_type_code');
    t.dropColumn('recycled_reason');
    t.dropColumn('recycled_at');
  });
  await knex.schema.alterTable('card_journal', (t) => {
    t.dropColumn('previous_seq');
    t.dropColumn('target_copy');
  });
}
