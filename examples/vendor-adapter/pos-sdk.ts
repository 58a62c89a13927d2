/**
 * "NovaPOS SDK" — an imaginary point-of-sale SDK, standing in for the real one a POS vendor ships.
 * It is NOT part of CineCard: it only exists so that `adapter.ts` has something concrete to map
 * CineCard's host contract onto. It is deliberately shaped differently from CineCard (its own names,
 * yuan cents instead of fen, unsubscribe functions instead of `Disposable`, `closes` flags instead of
 * `keepOpen`…) because a real SDK will be, too.
 *
 * What it offers, as a typical POS SDK does:
 * - `pos.display`: modal panels built from native components (labels, notices, inputs, steppers,
 *   pickers, grids, meters, action buttons, rows), and toasts;
 * - `pos.menu`: the POS's function menu;
 * - `pos.session`: the signed-in cashier and the UI language;
 * - `pos.sales`: the sale being rung up (admission and merchandise lines, payments);
 * - `pos.tenders`: the registry of payment methods;
 * - `pos.files`: where the POS saves files for the cashier (its "downloads").
 *
 * Each of them also has the calls a UI test of the POS would use (`select`, `type`, `press`…): the
 * example drives the till through those, as a cashier's fingers would, never through CineCard.
 * Plain TypeScript, no DOM.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every NovaPOS event: call `on(listener)`, keep the returned function, call it to unsubscribe. */
type Listener<T> = (value: T) => void;
class Signal<T> {
  private readonly listeners = new Set<Listener<T>>();
  on = (listener: Listener<T>): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  emit(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Display: modal panels made of native components
// ---------------------------------------------------------------------------------------------

export type NovaLabelStyle = 'body' | 'caption' | 'heading' | 'title' | 'emphasis' | 'positive' | 'caution' | 'alert';
export type NovaLevel = 'info' | 'ok' | 'warn' | 'error';

/** The SDK's component vocabulary (what its renderer knows how to draw). */
export type NovaComponent =
  | { readonly kind: 'label'; readonly text: string; readonly style: NovaLabelStyle }
  | { readonly kind: 'notice'; readonly level: NovaLevel; readonly heading?: string; readonly text: string }
  | { readonly kind: 'input'; readonly name: string; readonly caption: string; readonly inputType: 'text' | 'password' | 'date'; readonly value: string; readonly mandatory: boolean; readonly readOnly: boolean; readonly hint?: string; readonly errorText?: string }
  | { readonly kind: 'stepper'; readonly name: string; readonly caption: string; readonly value: number | null; readonly min?: number; readonly max?: number; readonly increment: number; readonly readOnly: boolean; readonly errorText?: string }
  | { readonly kind: 'picker'; readonly name: string; readonly caption: string; readonly choices: readonly { readonly key: string; readonly text: string }[]; readonly selected: string | null; readonly readOnly: boolean; readonly errorText?: string }
  | { readonly kind: 'grid'; readonly name?: string; readonly columns: readonly { readonly field: string; readonly heading: string; readonly rightAligned: boolean }[]; readonly rows: readonly Readonly<Record<string, string>>[]; readonly placeholder: string }
  | { readonly kind: 'meter'; readonly value: number; readonly total: number; readonly caption: string }
  | { readonly kind: 'action'; readonly key: string; readonly caption: string; readonly look: 'main' | 'plain' | 'destructive'; readonly enabled: boolean; /** Pressing it closes the panel. */ readonly closes: boolean }
  | { readonly kind: 'row' | 'column'; readonly items: readonly NovaComponent[] };

/** What the cashier entered: steppers give numbers (or null when empty), everything else text. */
export type NovaValues = Record<string, string | number | null>;

export interface NovaPanelSpec {
  readonly key: string;
  readonly heading: string;
  /** `compact`: a modal dialog over the sale; `fullscreen`: a back-office page. */
  readonly size: 'compact' | 'fullscreen';
  /** Whether the cashier may close it with ✕ / Esc. */
  readonly closable: boolean;
  readonly content: readonly NovaComponent[];
}

export type NovaCloseReason = 'action' | 'dismissed' | 'program';

export interface NovaPanelHandlers {
  /** An action button was pressed (with the values entered at that moment). */
  onAction(key: string, values: NovaValues): void;
  /** The panel went away: after a closing action, ✕, or `close()`. */
  onClosed(reason: NovaCloseReason): void;
}

export class NovaPanel {
  /** Values the cashier typed, by component name; they survive `setContent`. */
  private readonly entered = new Map<string, string | number | null>();
  closed = false;

  constructor(
    private spec: NovaPanelSpec,
    private readonly handlers: NovaPanelHandlers,
    private readonly display: NovaDisplay,
  ) {}

  get key(): string { return this.spec.key; }
  get heading(): string { return this.spec.heading; }
  get size(): NovaPanelSpec['size'] { return this.spec.size; }
  get content(): readonly NovaComponent[] { return this.spec.content; }

  /** Redraws the panel with new content (same key); what the cashier typed is kept. */
  setContent(spec: NovaPanelSpec): void {
    if (this.closed) return;
    this.spec = spec;
    this.display.changed.emit();
  }

  close(): void {
    this.finish('program');
  }

  // --- what a UI test (or the cashier's fingers) does ---------------------------------------

  /** Every component, nested rows and columns flattened. */
  components(): NovaComponent[] {
    const out: NovaComponent[] = [];
    const walk = (c: NovaComponent) => {
      out.push(c);
      if (c.kind === 'row' || c.kind === 'column') c.items.forEach(walk);
    };
    this.spec.content.forEach(walk);
    return out;
  }

  /** All the text shown (labels, notices), one line each. */
  text(): string {
    return this.components()
      .flatMap((c) => (c.kind === 'label' ? [c.text] : c.kind === 'notice' ? [[c.heading, c.text].filter(Boolean).join(': ')] : []))
      .join('\n');
  }

  /** The current value of an input, stepper or picker. */
  value(name: string): string | number | null | undefined {
    return this.values()[name];
  }

  /** Types into an input or stepper, or picks a choice. */
  type(name: string, value: string | number | null): void {
    const c = this.components().find((x) => 'name' in x && x.name === name && x.kind !== 'grid');
    if (!c || ('readOnly' in c && c.readOnly)) throw new Error(`NovaPOS: no editable component ${name} on ${this.key}`);
    this.entered.set(name, value);
    this.display.changed.emit();
  }

  /** Presses an action button; a disabled or missing one does nothing (returns false). */
  press(key: string): boolean {
    const action = this.components().find((c): c is Extract<NovaComponent, { kind: 'action' }> => c.kind === 'action' && c.key === key);
    if (this.closed || !action || !action.enabled) return false;
    const values = this.values();
    if (action.closes) this.finish('action', () => this.handlers.onAction(key, values));
    else this.handlers.onAction(key, values);
    return true;
  }

  /** ✕ / Esc. */
  dismiss(): boolean {
    if (!this.spec.closable) return false;
    this.finish('dismissed');
    return true;
  }

  values(): NovaValues {
    const out: NovaValues = {};
    for (const c of this.components()) {
      if (c.kind === 'input') out[c.name] = this.entered.has(c.name) ? (this.entered.get(c.name) ?? null) : c.value;
      else if (c.kind === 'picker') out[c.name] = this.entered.has(c.name) ? (this.entered.get(c.name) ?? null) : c.selected;
      else if (c.kind === 'stepper') {
        const v = this.entered.has(c.name) ? this.entered.get(c.name) : c.value;
        out[c.name] = v === null || v === undefined || v === '' ? null : Number(v);
      }
    }
    return out;
  }

  private finish(reason: NovaCloseReason, beforeClose?: () => void): void {
    if (this.closed) return;
    beforeClose?.();
    this.closed = true;
    this.display.remove(this);
    this.handlers.onClosed(reason);
  }
}

export interface NovaToast {
  readonly text: string;
  readonly level: NovaLevel;
}

export class NovaDisplay {
  private readonly open = new Map<string, NovaPanel>();
  readonly toasts: NovaToast[] = [];
  /** @internal */
  readonly changed = new Signal<void>();
  /** Anything on the display changed (a renderer redraws; a UI test re-checks what it waits for). */
  readonly onChanged = this.changed.on;

  /** Opens a panel (a panel with the same key is closed first). */
  showPanel(spec: NovaPanelSpec, handlers: NovaPanelHandlers): NovaPanel {
    this.open.get(spec.key)?.close();
    const panel = new NovaPanel(spec, handlers, this);
    this.open.set(spec.key, panel);
    this.changed.emit();
    return panel;
  }

  toast(text: string, level: NovaLevel = 'info'): void {
    this.toasts.push({ text, level });
    this.changed.emit();
  }

  /** The open panels, oldest first. */
  get panels(): readonly NovaPanel[] {
    return [...this.open.values()];
  }

  panel(key: string): NovaPanel | undefined {
    return this.open.get(key);
  }

  /** @internal */
  remove(panel: NovaPanel): void {
    if (this.open.get(panel.key) === panel) this.open.delete(panel.key);
    this.changed.emit();
  }
}

// ---------------------------------------------------------------------------------------------
// Menu, session, sales, tenders, files
// ---------------------------------------------------------------------------------------------

export interface NovaMenuItem {
  readonly key: string;
  readonly caption: string;
  /** The menu section it is listed under. */
  readonly section: string;
  onSelect(): void;
}

export class NovaMenu {
  private readonly items = new Map<string, NovaMenuItem>();

  /** Adds an item; call the returned function to take it away again. */
  add(item: NovaMenuItem): () => void {
    this.items.set(item.key, item);
    return () => {
      if (this.items.get(item.key) === item) this.items.delete(item.key);
    };
  }

  list(): readonly NovaMenuItem[] {
    return [...this.items.values()];
  }

  /** The cashier taps a menu item. */
  select(key: string): void {
    const item = this.items.get(key);
    if (!item) throw new Error(`NovaPOS: no menu item ${key}`);
    item.onSelect();
  }
}

export interface NovaCashier {
  readonly staffNo: string;
  readonly displayName: string;
}

export type NovaLanguage = 'zh-CN' | 'en-US';

export class NovaSession {
  private who: NovaCashier | null = null;
  private lang: NovaLanguage = 'zh-CN';
  private readonly cashierSignal = new Signal<NovaCashier | null>();
  private readonly languageSignal = new Signal<NovaLanguage>();
  readonly onCashierChanged = this.cashierSignal.on;
  readonly onLanguageChanged = this.languageSignal.on;

  constructor(readonly workstationId: string, private readonly staff: readonly (NovaCashier & { readonly pin: string })[]) {}

  get cashier(): NovaCashier | null { return this.who; }
  get language(): NovaLanguage { return this.lang; }

  signIn(staffNo: string, pin: string): boolean {
    const s = this.staff.find((x) => x.staffNo === staffNo && x.pin === pin);
    if (!s) return false;
    this.who = { staffNo: s.staffNo, displayName: s.displayName };
    this.cashierSignal.emit(this.who);
    return true;
  }

  signOut(): void {
    this.who = null;
    this.cashierSignal.emit(null);
  }

  setLanguage(language: NovaLanguage): void {
    this.lang = language;
    this.languageSignal.emit(language);
  }
}

/** A line of the sale. Prices in cents of a yuan (= fen). */
export interface NovaLine {
  readonly lineNo: number;
  readonly sku: string;
  readonly description: string;
  /** `admission`: a cinema ticket; `merchandise`: anything else (popcorn, drinks…). */
  readonly kind: 'admission' | 'merchandise';
  readonly quantity: number;
  readonly unitPriceCents: number;
  /** Admission lines only. */
  readonly admission?: { readonly film: string; readonly screenFormat: string; readonly startsAt: string; readonly ticketClass: string };
}

export interface NovaPayment {
  readonly tenderCode: string;
  readonly amountCents: number;
  /** The tender's own reference (a card transaction id…), printed on the receipt. */
  readonly reference: string;
  readonly lineNos: readonly number[];
}

export interface NovaSaleSnapshot {
  readonly saleNo: string;
  readonly lines: readonly NovaLine[];
  readonly payments: readonly NovaPayment[];
  readonly totalCents: number;
  readonly balanceDueCents: number;
}

export interface NovaTender {
  readonly code: string;
  readonly caption: string;
}

export class NovaTenders {
  private readonly tenders = new Map<string, NovaTender>();
  register(tender: NovaTender): () => void {
    this.tenders.set(tender.code, tender);
    return () => this.tenders.delete(tender.code);
  }
  get(code: string): NovaTender | undefined {
    return this.tenders.get(code);
  }
}

export class NovaSales {
  private sale: { saleNo: string; lines: NovaLine[]; payments: NovaPayment[] } | null = null;
  private seq = 0;
  private readonly changedSignal = new Signal<NovaSaleSnapshot | null>();
  readonly onSaleChanged = this.changedSignal.on;

  constructor(private readonly tenders: NovaTenders, private readonly workstationId: string) {}

  get current(): NovaSaleSnapshot | null {
    if (!this.sale) return null;
    const totalCents = this.sale.lines.reduce((s, l) => s + l.quantity * l.unitPriceCents, 0);
    const paid = this.sale.payments.reduce((s, p) => s + p.amountCents, 0);
    return { saleNo: this.sale.saleNo, lines: [...this.sale.lines], payments: [...this.sale.payments], totalCents, balanceDueCents: Math.max(0, totalCents - paid) };
  }

  /** Rings up a line (starting a sale if none is open). */
  addLine(line: Omit<NovaLine, 'lineNo'>): NovaLine {
    this.sale ??= { saleNo: `${this.workstationId}-${Date.now()}-${++this.seq}`, lines: [], payments: [] };
    const added = { ...line, lineNo: this.sale.lines.length + 1 };
    this.sale.lines.push(added);
    this.emit();
    return added;
  }

  /** Adds a payment with a registered tender; refuses an unknown tender or more than is due. */
  addPayment(payment: NovaPayment): { ok: true } | { ok: false; error: string } {
    const sale = this.current;
    if (!sale || !this.sale) return { ok: false, error: 'NO_SALE' };
    if (!this.tenders.get(payment.tenderCode)) return { ok: false, error: 'UNKNOWN_TENDER' };
    if (payment.amountCents > sale.balanceDueCents) return { ok: false, error: 'OVERPAYMENT' };
    this.sale.payments.push(payment);
    this.emit();
    return { ok: true };
  }

  /** Closes the sale (paid in full) and clears the till. */
  finish(): boolean {
    if (!this.current || this.current.balanceDueCents > 0) return false;
    this.sale = null;
    this.emit();
    return true;
  }

  private emit(): void {
    this.changedSignal.emit(this.current);
  }
}

/** The POS's "downloads": files saved for the cashier (a report to print, to mail…). */
export class NovaFiles {
  constructor(private readonly dir: string) {}
  save(name: string, bytes: Uint8Array): string {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, name.replace(/[\\/]/g, '_'));
    writeFileSync(path, bytes);
    return path;
  }
}

/** One NovaPOS workstation. */
export class NovaPos {
  readonly display = new NovaDisplay();
  readonly menu = new NovaMenu();
  readonly tenders = new NovaTenders();
  readonly session: NovaSession;
  readonly sales: NovaSales;
  readonly files: NovaFiles;

  constructor(options: { workstationId: string; staff: readonly (NovaCashier & { readonly pin: string })[]; downloadsDir: string }) {
    this.session = new NovaSession(options.workstationId, options.staff);
    this.sales = new NovaSales(this.tenders, options.workstationId);
    this.files = new NovaFiles(options.downloadsDir);
  }
}
