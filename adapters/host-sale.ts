/**
 * `HostSale`: the sale being rung up at the till, and applying a CineCard as a tender to it. The
 * plugin reads the basket to pre-fill a deduction through the cinema's redemption rules.
 */
import type { InjectionToken } from 'tsyringe';
import type { Event } from './lifecycle.ts';

export interface TicketLine {
  readonly lineId: string;
  readonly film: string;
  /** e.g. "2D", "3D", "IMAX". */
  readonly format: string;
  /** Showtime, ISO 8601 with offset. */
  readonly showtime: string;
  /** Price in fen. */
  readonly priceFen: number;
  /** The host's ticket type, e.g. "adult", "child". */
  readonly ticketType?: string;
}

export interface ConcessionLine {
  readonly lineId: string;
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  /** Unit price in fen. */
  readonly unitPriceFen: number;
}

export interface Sale {
  readonly saleId: string;
  readonly tickets: readonly TicketLine[];
  readonly concessions: readonly ConcessionLine[];
  /** What is still to pay, in fen. */
  readonly dueFen: number;
}

/** A CineCard tender: `uses` taken from card `cardNo`, covering the given lines. */
export interface CardTender {
  readonly saleId: string;
  readonly cardNo: string;
  readonly uses: number;
  readonly consumption: 'ticket' | 'concession';
  /** The sale lines this tender pays for. */
  readonly lineIds: readonly string[];
  /** What the tender covers, in fen (the host's prices). */
  readonly amountFen: number;
  /** The CineCard operation id, for the host's receipt and for voids. */
  readonly opId: string;
}

export type TenderOutcome = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

export interface HostSale {
  /** The sale in progress, or undefined when the till is idle. */
  current(): Sale | undefined;
  readonly onSaleChanged: Event<Sale | undefined>;
  /**
   * Applies the card as a tender. Called only after the card has been written and the op recorded,
   * so a host refusal does not undo the deduction: the plugin then offers a void.
   */
  applyTender(tender: CardTender): Promise<TenderOutcome>;
}

export const HostSale: InjectionToken<HostSale> = Symbol.for('cinecard.HostSale');
