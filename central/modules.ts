/**
 * Every module of the central service, in one list. A new module (cards, sync, reports…) adds its
 * folder, its migration in `central/store/migrations/`, its paths in `spec/openapi.yaml` — and one
 * line here. See `spec/central-dev.md`.
 */
import { auditModule } from './audit/routes.ts';
import { backupsModule } from './backup/routes.ts';
import { cardTypesModule } from './card-types/routes.ts';
import { cardsModule } from './cards/routes.ts';
import { ledgerModule } from './ledger/routes.ts';
import { metricsModule } from './metrics/routes.ts';
import { rulesModule } from './rules/routes.ts';
import { syncModule } from './sync/routes.ts';
import { reportsModule } from './reports/routes.ts';
import { authModule } from './auth/routes.ts';
import { cinemasModule } from './cinemas/routes.ts';
import { apiReferenceModule } from './api-reference/routes.ts';
import { consoleModule } from './console/routes.ts';
import { healthModule } from './health/routes.ts';
import type { CentralModule } from './platform.ts';
import { terminalsModule } from './terminals/routes.ts';
import { usersModule } from './users/routes.ts';

export const centralModules: readonly CentralModule[] = [
  healthModule,
  authModule,
  cinemasModule,
  terminalsModule,
  usersModule,
  auditModule,
  cardTypesModule,
  cardsModule,
  ledgerModule,
  rulesModule,
  syncModule,
  reportsModule,
  consoleModule,
  apiReferenceModule,
  backupsModule,
  metricsModule,
];
