/** Issuing one-time enrolment codes and spending them; shared by the API and the CLI. */
import type { Knex } from 'knex';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Principal } from '../auth/principal.ts';
import { newEnrolmentCode, normaliseEnrolmentCode, sha256 } from '../auth/secrets.ts';
import { type Clock, isoTime, newId } from '../store/ids.ts';
import type { components } from '../client/schema.ts';
import type { TerminalStore } from './terminal-store.ts';

export class Enrolment {
  constructor(
    private readonly db: Knex,
    private readonly terminals: TerminalStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly codeTtlSeconds: number,
  ) {}

  /**
   * A new code for a terminal of `cinemaId` (which must exist); the caller shows it once. With
   * `replacesTerminalId` (a terminal of that cinema) it re-enrols that terminal instead.
   */
  async issueCode(cinemaId: string, actor: Principal | null, replacesTerminalId: string | null = null): Promise<components['schemas']['EnrolmentCode']> {
    const code = newEnrolmentCode();
    const expiresAt = isoTime(new Date(this.clock.now().getTime() + this.codeTtlSeconds * 1000));
    const codeId = newId();
    await this.db.transaction(async (trx) => {
      await this.terminals.insertEnrolmentCode(trx, {
        id: codeId,
        cinemaId,
        codeHash: sha256(normaliseEnrolmentCode(code)),
        expiresAt,
        issuedByUserId: actor?.user?.id ?? null,
        replacesTerminalId,
      });
      await this.audit.record(trx, actor, {
        action: 'terminal.enrolment_code.create',
        targetType: 'enrolment_code',
        targetId: codeId,
        cinemaId,
        details: { expiresAt, ...(replacesTerminalId ? { replacesTerminalId } : {}) },
      });
    });
    return { code, cinemaId, expiresAt };
  }
}
