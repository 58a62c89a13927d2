/** The events every {@link CardReader} implementation fires, in one place. */
import type { CardRemovedEvent, CardSession, ReaderServiceState } from './card-reader.ts';
import { Emitter } from './lifecycle.ts';

export abstract class CardReaderEvents {
  protected readonly readerAdded = new Emitter<string>();
  protected readonly readerRemoved = new Emitter<string>();
  protected readonly serviceChanged = new Emitter<ReaderServiceState>();
  protected readonly cardPresent = new Emitter<CardSession>();
  protected readonly cardRemoved = new Emitter<CardRemovedEvent>();
  readonly onReaderAdded = this.readerAdded.event;
  readonly onReaderRemoved = this.readerRemoved.event;
  readonly onServiceStateChanged = this.serviceChanged.event;
  readonly onCardPresent = this.cardPresent.event;
  readonly onCardRemoved = this.cardRemoved.event;

  /** Drops every listener; call last in `dispose()`. */
  protected disposeEvents(): void {
    for (const e of [this.readerAdded, this.readerRemoved, this.serviceChanged, this.cardPresent, this.cardRemoved]) e.dispose();
  }
}
