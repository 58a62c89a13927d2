import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('meta', (t) => {
    t.string('key').primary();
    t.text('value').notNullable();
  });

  // Every operation made at this terminal, kept for local statistics; `outbox` says which still
  // await central's acknowledgement.
  await knex.schema.createTable('ops', (t) => {
    t.string('op_id').primary(); // UUIDv7
    t.integer('term_seq').notNullable().unique(); // gapless per terminal
    t.string('terminal_id').notNullable();
    t.string('cinema_id').notNullable();
    t.string('kind').notNullable();
    t.string('card_no').notNullable();
    t.integer('card_seq'); // the card's tx counter after this op; null for ops that do not write the card
    t.string('operator_id');
    t.string('consumption'); // ticket | concession, for redemptions
    t.integer('uses'); // uses taken (redeem) or loaded (top-up)
    t.integer('remaining_after');
    t.string('device_time').notNullable(); // ISO 8601 UTC; informational, never used for ordering
    t.text('payload').notNullable(); // JSON, stored as hashed
    t.string('hash').notNullable();
    t.index(['card_no', 'term_seq']);
    t.index(['device_time']);
  });

  await knex.schema.createTable('outbox', (t) => {
    t.string('op_id').primary().references('ops.op_id');
    t.integer('term_seq').notNullable().unique();
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
  });

  // A card write in flight: written before the first write APDU, resolved on re-tap (card-format.md).
  await knex.schema.createTable('card_journal', (t) => {
    t.string('card_no').primary();
    t.string('uid').notNullable();
    t.integer('expected_seq').notNullable();
    t.text('record').notNullable(); // the record being written, JSON
    t.text('op').notNullable(); // the op to commit once the write is known to have landed, JSON
    t.string('created_at').notNullable();
  });

  await knex.schema.createTable('cards', (t) => {
    t.string('card_no').primary();
    t.string('uid');
    t.string('card_type_id');
    t.string('state').notNullable();
    t.integer('remaining');
    t.string('expiry');
    t.integer('issue_epoch');
    t.integer('last_seq');
    t.string('updated_at').notNullable();
  });

  await knex.schema.createTable('blacklist', (t) => {
    t.string('card_no').primary();
    t.text('reason');
    t.string('listed_at').notNullable();
  });

  await knex.schema.createTable('redemption_rules', (t) => {
    t.string('cinema_id').primary();
    t.integer('version').notNullable();
    t.text('rules').notNullable(); // JSON
  });

  await knex.schema.createTable('users', (t) => {
    t.string('user_id').primary();
    t.string('username').notNullable().unique();
    t.string('display_name').notNullable();
    t.string('password_hash');
    t.text('roles').notNullable(); // JSON array
    t.string('host_operator_id').unique();
    t.string('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['users', 'redemption_rules', 'blacklist', 'cards', 'card_journal', 'outbox', 'ops', 'meta']) {
    await knex.schema.dropTableIfExists(table);
  }
}
