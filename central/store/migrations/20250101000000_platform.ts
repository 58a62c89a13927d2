/**
 * The platform's tables: cinemas, users and their roles, terminals and enrolment codes, the audit log.
 * Times are ISO-8601 UTC text (24 chars), ids UUIDs, JSON as text — identical on SQLite and PostgreSQL.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cinemas', (t) => {
    t.uuid('id').primary();
    t.string('code', 32).notNullable().unique();
    t.string('name', 100).notNullable();
    t.string('address', 200).nullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
  });
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.string('username', 64).notNullable().unique();
    t.string('display_name', 100).notNullable();
    t.string('password_hash', 255).notNullable();
    t.uuid('cinema_id').nullable().references('id').inTable('cinemas');
    t.string('disabled_at', 24).nullable();
    t.integer('failed_logins').notNullable().defaultTo(0);
    t.string('locked_until', 24).nullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    t.index(['cinema_id']);
  });
  await knex.schema.createTable('user_roles', (t) => {
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('role', 32).notNullable();
    t.primary(['user_id', 'role']);
  });
  await knex.schema.createTable('terminals', (t) => {
    t.uuid('id').primary();
    t.uuid('cinema_id').notNullable().references('id').inTable('cinemas');
    t.string('name', 100).notNullable();
    t.string('secret_hash', 64).notNullable();
    t.string('enrolled_at', 24).notNullable();
    t.string('revoked_at', 24).nullable();
    t.index(['cinema_id']);
  });
  await knex.schema.createTable('enrolment_codes', (t) => {
    t.uuid('id').primary();
    t.uuid('cinema_id').notNullable().references('id').inTable('cinemas');
    t.string('code_hash', 64).notNullable().unique();
    t.string('expires_at', 24).notNullable();
    t.uuid('issued_by_user_id').nullable().references('id').inTable('users');
    t.string('used_at', 24).nullable();
    t.uuid('terminal_id').nullable().references('id').inTable('terminals');
  });
  await knex.schema.createTable('audit_log', (t) => {
    t.uuid('id').primary();
    t.string('at', 24).notNullable();
    // No foreign keys: the log outlives and must never block what it records.
    t.uuid('actor_user_id').nullable();
    t.uuid('actor_terminal_id').nullable();
    t.string('action', 64).notNullable();
    t.string('target_type', 64).notNullable();
    t.string('target_id', 64).nullable();
    t.uuid('cinema_id').nullable();
    t.text('details').notNullable();
    t.index(['action']);
    t.index(['cinema_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_log', 'enrolment_codes', 'terminals', 'user_roles', 'users', 'cinemas']) {
    await knex.schema.dropTableIfExists(table);
  }
}
