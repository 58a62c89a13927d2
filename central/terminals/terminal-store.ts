/** Terminals and their one-time enrolment codes in the database. */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';

export interface TerminalRecord {
  readonly id: string;
  readonly cinemaId: string;
  readonly name: string;
  readonly secretHash: string;
  readonly enrolledAt: string;
  readonly revokedAt: string | null;
}

interface TerminalRow {
  id: string;
  cinema_id: string;
  name: string;
  secret_hash: string;
  enrolled_at: string;
  revoked_at: string | null;
}

interface EnrolmentCodeRow {
  id: string;
  cinema_id: string;
  code_hash: string;
  expires_at: string;
  issued_by_user_id: string | null;
  used_at: string | null;
  terminal_id: string | null;
  replaces_terminal_id: string | null;
}

const fromRow = (row: TerminalRow): TerminalRecord => ({
  id: row.id,
  cinemaId: row.cinema_id,
  name: row.name,
  secretHash: row.secret_hash,
  enrolledAt: row.enrolled_at,
  revokedAt: row.revoked_at,
});

export class TerminalStore {
  constructor(private readonly db: Knex) {}

  async findById(id: string, trx: Knex = this.db): Promise<TerminalRecord | undefined> {
    const row = await trx<TerminalRow>('terminals').where({ id }).first();
    return row && fromRow(row);
  }

  async listByCinema(cinemaId: string): Promise<TerminalRecord[]> {
    const rows = await this.db<TerminalRow>('terminals').where({ cinema_id: cinemaId }).orderBy('id');
    return rows.map(fromRow);
  }

  async insert(trx: Knex, t: TerminalRecord): Promise<void> {
    await trx<TerminalRow>('terminals').insert({
      id: t.id,
      cinema_id: t.cinemaId,
      name: t.name,
      secret_hash: t.secretHash,
      enrolled_at: t.enrolledAt,
      revoked_at: t.revokedAt,
    });
  }

  /** Re-enrolment: the terminal keeps its id and takes a new secret (the old one stops working). */
  async replaceSecret(trx: Knex, id: string, name: string, secretHash: string): Promise<void> {
    await trx<TerminalRow>('terminals').where({ id }).update({ name, secret_hash: secretHash, revoked_at: null });
  }

  async revoke(trx: Knex, id: string, at: string): Promise<void> {
    await trx<TerminalRow>('terminals').where({ id }).whereNull('revoked_at').update({ revoked_at: at });
  }

  async insertEnrolmentCode(
    trx: Knex,
    code: { id: string; cinemaId: string; codeHash: string; expiresAt: string; issuedByUserId: string | null; replacesTerminalId: string | null },
  ): Promise<void> {
    await trx<EnrolmentCodeRow>('enrolment_codes').insert({
      id: code.id,
      cinema_id: code.cinemaId,
      code_hash: code.codeHash,
      expires_at: code.expiresAt,
      issued_by_user_id: code.issuedByUserId,
      replaces_terminal_id: code.replacesTerminalId,
      used_at: null,
      terminal_id: null,
    });
  }

  /**
   * Spends a code: marks it used if it exists, is unused and unexpired — in one statement, so two
   * terminals racing with the same code cannot both win. Returns the code's cinema, or undefined.
   */
  async spendEnrolmentCode(trx: Knex, codeHash: string, now: string): Promise<{ id: string; cinemaId: string; replacesTerminalId: string | null } | undefined> {
    const spent = await trx<EnrolmentCodeRow>('enrolment_codes')
      .where({ code_hash: codeHash })
      .whereNull('used_at')
      .where('expires_at', '>', now)
      .update({ used_at: now });
    if (spent !== 1) return undefined;
    const row = await trx<EnrolmentCodeRow>('enrolment_codes').where({ code_hash: codeHash }).first();
    return row && { id: row.id, cinemaId: row.cinema_id, replacesTerminalId: row.replaces_terminal_id };
  }

  async linkEnrolmentCode(trx: Knex, codeId: string, terminalId: string): Promise<void> {
    await trx<EnrolmentCodeRow>('enrolment_codes').where({ id: codeId }).update({ terminal_id: terminalId });
  }
}

/** The API's view of a terminal (never the secret hash). */
export function terminalView(t: TerminalRecord): components['schemas']['Terminal'] {
  return { id: t.id, cinemaId: t.cinemaId, name: t.name, enrolledAt: t.enrolledAt, revokedAt: t.revokedAt };
}
