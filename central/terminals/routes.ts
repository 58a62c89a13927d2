/**
 * Terminal enrolment: HQ issues a one-time code for a cinema; the terminal spends it once and gets
 * its own credential (id + secret), with which it then asks for terminal tokens.
 */
import { z } from 'zod';
import type { components, operations } from '../client/schema.ts';
import { CentralError, defineMessages } from '../errors.ts';
import { defineRoute } from '../http/route.ts';
import { id, specSchema, text } from '../http/validation.ts';
import type { CentralModule } from '../platform.ts';
import { isoTime, newId } from '../store/ids.ts';
import { requireCinema } from '../auth/principal.ts';
import { newTerminalSecret, normaliseEnrolmentCode, sha256 } from '../auth/secrets.ts';
import { Enrolment } from './enrolment.ts';
import { CinemaStore, requireCinemaExists } from '../cinemas/cinema-store.ts';
import { CinemaPath } from '../cinemas/routes.ts';
import { TerminalStore, terminalView, type TerminalRecord } from './terminal-store.ts';

type S = components['schemas'];

export const terminalMessages = defineMessages({
  terminal_not_found: {
    type: 'not_found',
    en: 'There is no terminal with id {terminalId}.',
    'zh-CN': '不存在编号为 {terminalId} 的终端。',
  },
  enrolment_code_invalid: {
    type: 'unauthorized',
    en: 'This enrolment code is wrong, already used or expired; ask HQ for a new one.',
    'zh-CN': '该注册码错误、已被使用或已过期，请向总部申请新的注册码。',
  },
});

export const TerminalPath = specSchema<operations['revokeTerminal']['parameters']['path']>()(
  z.strictObject({ terminalId: id }),
);

export const EnrolmentCodeQuery = specSchema<NonNullable<operations['createEnrolmentCode']['parameters']['query']>>()(
  z.strictObject({ replaces: id.optional() }),
);

export const EnrolRequest = specSchema<S['EnrolRequest']>()(
  z.strictObject({ code: text(1, 64), name: text(1, 100) }),
);

export const terminalsModule: CentralModule = {
  name: 'terminals',
  routes: ({ db, clock, audit, config }) => {
    const terminals = new TerminalStore(db);
    const cinemas = new CinemaStore(db);
    const enrolment = new Enrolment(db, terminals, audit, clock, config.enrolmentCodeTtlSeconds);
    return [
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/enrolment-codes',
        method: 'post',
        permission: 'terminals.enrol',
        params: CinemaPath,
        query: EnrolmentCodeQuery,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params, query }, { principal }) => {
          await requireCinemaExists(cinemas, params.cinemaId);
          const replaces = query.replaces ?? null;
          if (replaces !== null && (await terminals.findById(replaces))?.cinemaId !== params.cinemaId) {
            throw new CentralError(terminalMessages.terminal_not_found, { terminalId: replaces });
          }
          return { status: 201, body: await enrolment.issueCode(params.cinemaId, principal, replaces) };
        },
      }),
      defineRoute({
        path: '/v1/terminals/enrol',
        method: 'post',
        permission: 'public',
        rateLimited: true,
        body: EnrolRequest,
        handler: async ({ body }, { principal }) => {
          const secret = newTerminalSecret();
          const now = isoTime(clock.now());
          const terminal = await db.transaction(async (trx) => {
            const code = await terminals.spendEnrolmentCode(trx, sha256(normaliseEnrolmentCode(body.code)), now);
            if (!code) throw new CentralError(terminalMessages.enrolment_code_invalid);
            const replaced = code.replacesTerminalId ? await terminals.findById(code.replacesTerminalId, trx) : undefined;
            if (replaced) {
              // Re-enrolment of a wiped or replaced machine: same terminal, new secret.
              await terminals.replaceSecret(trx, replaced.id, body.name, sha256(secret));
              await terminals.linkEnrolmentCode(trx, code.id, replaced.id);
              await audit.record(trx, principal, {
                action: 'terminal.reenrol',
                targetType: 'terminal',
                targetId: replaced.id,
                cinemaId: replaced.cinemaId,
                details: { name: body.name, enrolmentCodeId: code.id, wasRevoked: replaced.revokedAt !== null },
              });
              return { ...replaced, name: body.name };
            }
            const record: TerminalRecord = {
              id: newId(),
              cinemaId: code.cinemaId,
              name: body.name,
              secretHash: sha256(secret),
              enrolledAt: now,
              revokedAt: null,
            };
            await terminals.insert(trx, record);
            await terminals.linkEnrolmentCode(trx, code.id, record.id);
            await audit.record(trx, principal, {
              action: 'terminal.enrol',
              targetType: 'terminal',
              targetId: record.id,
              cinemaId: record.cinemaId,
              details: { name: record.name, enrolmentCodeId: code.id },
            });
            return record;
          });
          return { status: 201, body: { terminalId: terminal.id, cinemaId: terminal.cinemaId, secret } };
        },
      }),
      defineRoute({
        path: '/v1/cinemas/{cinemaId}/terminals',
        method: 'get',
        permission: 'terminals.read',
        params: CinemaPath,
        cinemaOf: ({ params }) => params.cinemaId,
        handler: async ({ params }) => {
          await requireCinemaExists(cinemas, params.cinemaId);
          return { status: 200, body: { items: (await terminals.listByCinema(params.cinemaId)).map(terminalView) } };
        },
      }),
      defineRoute({
        path: '/v1/terminals/{terminalId}/revoke',
        method: 'post',
        permission: 'terminals.enrol',
        params: TerminalPath,
        handler: async ({ params }, { principal }) => {
          const terminal = await terminals.findById(params.terminalId);
          if (!terminal) throw new CentralError(terminalMessages.terminal_not_found, { terminalId: params.terminalId });
          requireCinema(principal, terminal.cinemaId);
          await db.transaction(async (trx) => {
            await terminals.revoke(trx, terminal.id, isoTime(clock.now()));
            await audit.record(trx, principal, {
              action: 'terminal.revoke',
              targetType: 'terminal',
              targetId: terminal.id,
              cinemaId: terminal.cinemaId,
            });
          });
          return { status: 200, body: terminalView((await terminals.findById(terminal.id))!) };
        },
      }),
    ];
  },
};
