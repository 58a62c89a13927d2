/**
 * The till's basket: the host side of `HostSale`. Lines are tickets (a showtime and a ticket type)
 * and concessions; tenders are cash and CineCard. The plugin reads `current()` to pre-fill a
 * deduction and calls `applyTender` after it has written the card; the cashier pays the rest in cash.
 */
import { randomUUID } from 'node:crypto';
import type { CardTender, ConcessionLine, HostSale, Sale, TenderOutcome, TicketLine } from '../../adapters/host-sale.ts';
import { Emitter, type Disposable } from '../../adapters/lifecycle.ts';
import type { Catalogue } from './catalogue.ts';

export type Tender =
  | { readonly kind: 'cash'; readonly amountFen: number }
  | { readonly kind: 'cinecard'; readonly amountFen: number; readonly cardNo: string; readonly uses: number; readonly lineIds: readonly string[]; readonly opId: string };

export interface BasketState {
  readonly saleId: string;
  readonly tickets: readonly (TicketLine & { readonly showtimeId: string })[];
  readonly concessions: readonly ConcessionLine[];
  readonly tenders: readonly Tender[];
  readonly totalFen: number;
  readonly dueFen: number;
  /** Everything is paid: the cashier closes the sale. */
  readonly paid: boolean;
}

export class Basket implements HostSale, Disposable {
  private saleId = randomUUID();
  private tickets: (TicketLine & { showtimeId: string })[] = [];
  private concessions: ConcessionLine[] = [];
  private tenders: Tender[] = [];
  private readonly saleChanged = new Emitter<Sale | undefined>();
  private readonly changed = new Emitter<void>();
  readonly onSaleChanged = this.saleChanged.event;
  /** Any change, tenders included (the POS screen redraws). */
  readonly onChanged = this.changed.event;

  constructor(private readonly catalogue: () => Catalogue) {}

  current(): Sale | undefined {
    if (this.tickets.length === 0 && this.concessions.length === 0) return undefined;
    return { saleId: this.saleId, tickets: this.tickets.map(({ showtimeId: _, ...t }) => t), concessions: [...this.concessions], dueFen: this.dueFen };
  }

  get state(): BasketState {
    return { saleId: this.saleId, tickets: [...this.tickets], concessions: [...this.concessions], tenders: [...this.tenders], totalFen: this.totalFen, dueFen: this.dueFen, paid: this.paid };
  }

  get totalFen(): number {
    return this.tickets.reduce((s, t) => s + t.priceFen, 0) + this.concessions.reduce((s, c) => s + c.quantity * c.unitPriceFen, 0);
  }

  get dueFen(): number {
    return Math.max(0, this.totalFen - this.tenders.reduce((s, t) => s + t.amountFen, 0));
  }

  get paid(): boolean {
    return this.totalFen > 0 && this.dueFen === 0;
  }

  addTicket(showtimeId: string, ticketTypeId: string): void {
    const cat = this.catalogue();
    const show = cat.showtimes.find((s) => s.id === showtimeId);
    const type = cat.ticketTypes.find((t) => t.id === ticketTypeId);
    const film = cat.films.find((f) => f.id === show?.filmId);
    if (!show || !type || !film || this.locked) return;
    this.tickets.push({ lineId: randomUUID(), showtimeId, film: film.title, format: show.format, showtime: show.startsAt, priceFen: Math.max(0, show.basePriceFen + type.deltaFen), ticketType: type.id });
    this.fire();
  }

  addConcession(sku: string): void {
    const item = this.catalogue().concessions.find((c) => c.sku === sku);
    if (!item || this.locked) return;
    const i = this.concessions.findIndex((c) => c.sku === sku);
    if (i >= 0) this.concessions[i] = { ...this.concessions[i]!, quantity: this.concessions[i]!.quantity + 1 };
    else this.concessions.push({ lineId: randomUUID(), sku, name: item.name['zh-CN'], quantity: 1, unitPriceFen: item.priceFen });
    this.fire();
  }

  removeLine(lineId: string): void {
    if (this.isTendered(lineId)) return;
    this.tickets = this.tickets.filter((t) => t.lineId !== lineId);
    this.concessions = this.concessions.filter((c) => c.lineId !== lineId);
    this.fire();
  }

  payCash(): void {
    if (this.dueFen <= 0) return;
    this.tenders.push({ kind: 'cash', amountFen: this.dueFen });
    this.fire();
  }

  /** Ends the sale (paid, or voided when nothing was tendered) and starts an empty one. */
  newSale(): boolean {
    if (this.tenders.length > 0 && !this.paid) return false; // part-paid: pay the rest first
    this.saleId = randomUUID();
    this.tickets = [];
    this.concessions = [];
    this.tenders = [];
    this.fire();
    return true;
  }

  async applyTender(tender: CardTender): Promise<TenderOutcome> {
    if (tender.saleId !== this.saleId) return { accepted: false, reason: 'sale_changed' };
    const lines = new Set([...this.tickets.map((t) => t.lineId), ...this.concessions.map((c) => c.lineId)]);
    if (tender.lineIds.some((id) => !lines.has(id))) return { accepted: false, reason: 'unknown_line' };
    if (tender.lineIds.some((id) => this.isTendered(id))) return { accepted: false, reason: 'already_paid' };
    if (this.tenders.some((t) => t.kind === 'cinecard' && t.opId === tender.opId)) return { accepted: true };
    const amountFen = Math.min(tender.amountFen, this.dueFen);
    this.tenders.push({ kind: 'cinecard', amountFen, cardNo: tender.cardNo, uses: tender.uses, lineIds: [...tender.lineIds], opId: tender.opId });
    this.fire();
    return { accepted: true };
  }

  dispose(): void {
    this.saleChanged.dispose();
    this.changed.dispose();
  }

  /** Lines may not change once a tender has been taken. */
  private get locked(): boolean {
    return this.tenders.length > 0;
  }

  private isTendered(lineId: string): boolean {
    return this.locked || this.tenders.some((t) => t.kind === 'cinecard' && t.lineIds.includes(lineId));
  }

  private fire(): void {
    this.saleChanged.fire(this.current());
    this.changed.fire();
  }
}
