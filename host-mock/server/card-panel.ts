/**
 * The card panel: demo cards the cashier taps and removes instead of a real reader. Each card is an
 * emulated MIFARE Classic 1K kept in a file (so balances outlive a restart); a card is on at most
 * one till's reader at a time, as a plastic card is. "Pull mid-write" arms a tear: the card leaves
 * the field at the next write APDU, exactly as a cardholder snatching it away would.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CardReply, MifareClassic1k, type MifareClassicInit } from '../../adapters/emulator/mifare-classic.ts';
import { InProcessCardReader } from '../../adapters/emulator/in-process-reader.ts';
import { Emitter, type Disposable } from '../../adapters/lifecycle.ts';

const INS_UPDATE_BINARY = 0xd6;

/** An emulated card that can be told to leave the field at its next write. */
export class DemoCard extends MifareClassic1k {
  tearOnNextWrite = false;

  constructor(init: MifareClassicInit, readonly cardNo: string, readonly label: string) {
    super(init);
  }

  override transmit(apdu: Uint8Array): CardReply {
    if (this.tearOnNextWrite && apdu[1] === INS_UPDATE_BINARY) {
      this.tearOnNextWrite = false;
      this.setFaults({ tearAt: { apduIndex: 0, applied: false } });
    }
    return super.transmit(apdu);
  }
}

interface CardFileV1 {
  readonly cardNo: string;
  readonly label: string;
  readonly uid: string;
  readonly image: string;
}

/** The demo cards of one installation, in `<dir>/<cardNo>.json`. */
export class CardWallet {
  private readonly cards = new Map<string, DemoCard>();
  /** Which panel holds each card now. */
  readonly holder = new Map<string, CardPanel>();
  private readonly changed = new Emitter<void>();
  readonly onChanged = this.changed.event;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CardFileV1;
      this.cards.set(c.cardNo, new DemoCard({ uid: Buffer.from(c.uid, 'hex'), image: Buffer.from(c.image, 'hex') }, c.cardNo, c.label));
    }
  }

  has(cardNo: string): boolean {
    return this.cards.has(cardNo) || existsSync(join(this.dir, `${cardNo}.json`));
  }

  /** Adds a card (made by the demo seed) and saves it. */
  add(card: DemoCard): void {
    this.cards.set(card.cardNo, card);
    this.save(card);
    this.changed.fire();
  }

  get(cardNo: string): DemoCard | undefined {
    return this.cards.get(cardNo);
  }

  list(): { cardNo: string; label: string; on: string | undefined }[] {
    return [...this.cards.values()].map((c) => ({ cardNo: c.cardNo, label: c.label, on: this.holder.get(c.cardNo)?.name }));
  }

  /** Writes the card's memory to its file (atomically). */
  save(card: DemoCard): void {
    const file = join(this.dir, `${card.cardNo}.json`);
    const body: CardFileV1 = { cardNo: card.cardNo, label: card.label, uid: Buffer.from(card.uid).toString('hex'), image: Buffer.from(card.image()).toString('hex') };
    writeFileSync(`${file}.tmp`, JSON.stringify(body));
    renameSync(`${file}.tmp`, file);
  }

  saveAll(): void {
    for (const c of this.cards.values()) this.save(c);
  }

  /** @internal */
  fire(): void {
    this.changed.fire();
  }
}

/** One till's stand-in reader: taps and removes the wallet's cards on an {@link InProcessCardReader}. */
export class CardPanel implements Disposable {
  readonly reader: InProcessCardReader;
  private onReader: DemoCard | undefined;
  private readonly subscription: Disposable;

  constructor(readonly name: string, private readonly wallet: CardWallet) {
    this.reader = new InProcessCardReader({ name });
    // A card pulled mid-write leaves by itself: keep the panel in step and save what it holds.
    this.subscription = this.reader.onCardRemoved(() => this.left());
  }

  get cardNo(): string | undefined {
    return this.onReader?.cardNo;
  }

  get tearArmed(): boolean {
    return this.onReader?.tearOnNextWrite ?? false;
  }

  tap(cardNo: string): boolean {
    const card = this.wallet.get(cardNo);
    if (!card) return false;
    this.wallet.holder.get(cardNo)?.remove(); // taken off the other till's reader
    this.remove();
    this.onReader = card;
    this.wallet.holder.set(cardNo, this);
    this.reader.insert(card);
    this.wallet.fire();
    return true;
  }

  remove(): void {
    if (!this.onReader) return;
    this.reader.remove(); // fires onCardRemoved → left()
    this.left();
  }

  /** Arms "pull mid-write" on the card on the reader: it leaves at the next write APDU. */
  armTear(): boolean {
    if (!this.onReader) return false;
    this.onReader.tearOnNextWrite = true;
    this.wallet.fire();
    return true;
  }

  dispose(): void {
    this.remove();
    this.subscription.dispose();
  }

  private left(): void {
    const card = this.onReader;
    if (!card || this.reader.card === card) return;
    this.onReader = undefined;
    card.tearOnNextWrite = false;
    if (this.wallet.holder.get(card.cardNo) === this) this.wallet.holder.delete(card.cardNo);
    this.wallet.save(card);
    this.wallet.fire();
  }
}
