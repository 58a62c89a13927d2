/**
 * A restored terminal gets its own ops back (`spec/sync.md` §6): each synced ledger row keeps the
 * uploading terminal's `term_seq`, so the terminal's sequence can be rebuilt in order.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ledger_entries', (t) => {
    t.integer('term_seq').nullable();
    t.index(['terminal_id', 'term_seq']);
  });
  // A code that re-enrols an existing terminal (same id, new secret).
  await knex.schema.alterTable('enrolment_codes', (t) => {
    t.uuid('replaces_terminal_id').nullable().references('id').inTable('terminals');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('enrolment_codes', (t) => {
    t.dropColumn('replaces_terminal_id');
  });
  await knex.schema.alterTable('ledger_entries', (t) => {
    t.dropIndex(['terminal_id', 'term_seq']);
    t.dropColumn('term_seq');
  });
}
