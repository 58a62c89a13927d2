/** Cinemas in the database. */
import type { Knex } from 'knex';
import type { components } from '../client/schema.ts';
import { CentralError } from '../errors.ts';
import { cinemaMessages } from './messages.ts';

export type Cinema = components['schemas']['Cinema'];

interface CinemaRow {
  id: string;
  code: string;
  name: string;
  address: string | null;
  created_at: string;
  updated_at: string;
}

const fromRow = (row: CinemaRow): Cinema => ({
  id: row.id,
  code: row.code,
  name: row.name,
  address: row.address,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class CinemaStore {
  constructor(private readonly db: Knex) {}

  async findById(id: string, trx: Knex = this.db): Promise<Cinema | undefined> {
    const row = await trx<CinemaRow>('cinemas').where({ id }).first();
    return row && fromRow(row);
  }

  async findByCode(code: string, trx: Knex = this.db): Promise<Cinema | undefined> {
    const row = await trx<CinemaRow>('cinemas').where({ code }).first();
    return row && fromRow(row);
  }

  /** All cinemas, or just one when `onlyId` is given (a cinema-bound caller), by code. */
  async list(onlyId: string | null): Promise<Cinema[]> {
    const query = this.db<CinemaRow>('cinemas').orderBy('code');
    if (onlyId !== null) query.where({ id: onlyId });
    return (await query).map(fromRow);
  }

  async insert(trx: Knex, cinema: Cinema): Promise<void> {
    await trx<CinemaRow>('cinemas').insert({
      id: cinema.id,
      code: cinema.code,
      name: cinema.name,
      address: cinema.address,
      created_at: cinema.createdAt,
      updated_at: cinema.updatedAt,
    });
  }

  async update(trx: Knex, cinema: Cinema): Promise<void> {
    await trx<CinemaRow>('cinemas')
      .where({ id: cinema.id })
      .update({ name: cinema.name, address: cinema.address, updated_at: cinema.updatedAt });
  }
}

/** Finds a cinema or throws `not_found`; other modules use it to check a cinema id. */
export async function requireCinemaExists(store: CinemaStore, cinemaId: string): Promise<Cinema> {
  const cinema = await store.findById(cinemaId);
  if (!cinema) throw new CentralError(cinemaMessages.cinema_not_found, { cinemaId });
  return cinema;
}

