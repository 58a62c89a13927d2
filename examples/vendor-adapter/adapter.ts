/**
 * The CineCard adapter for NovaPOS: the three host adapters a POS vendor writes
 * (`spec/host-contract.md`) — `HostUi`, `HostSession` and `HostSale` — mapped onto the NovaPOS SDK
 * (`pos-sdk.ts`). The card reader, the keys, the clock and the logger come with CineCard
 * (`cinecard/adapters`) and need no vendor code.
 *
 * Copy this file and replace the `NovaPos` calls with your SDK's. The rules that matter:
 * - render every view node CineCard sends, nothing more — the plugin never touches your widgets;
 * - `open` resolves exactly once: with the pressed button's `{action, values}` for a button without
 *   `keepOpen`, else `undefined` (✕, `close`, a replaced view); `keepOpen` presses go to `onAction`;
 * - `update` keeps what the cashier typed (NovaPOS keeps entered values across `setContent`);
 * - every subscription returns a CineCard `Disposable`.
 */
import {
  toDisposable,
  type CardTender,
  type Disposable,
  type Event,
  type HostOperator,
  type HostSale,
  type HostSession,
  type HostUi,
  type Locale,
  type MenuEntry,
  type OfferedFile,
  type Sale,
  type TenderOutcome,
  type View,
  type ViewNode,
  type ViewResult,
} from 'cinecard/adapters';
import type { NovaComponent, NovaLabelStyle, NovaLevel, NovaLine, NovaPanel, NovaPanelSpec, NovaPos } from './pos-sdk.ts';

/** NovaPOS's "subscribe, get an unsubscribe function" as CineCard's `Event<T>` (returns a Disposable). */
function asEvent<N, T>(on: (listener: (value: N) => void) => () => void, map: (value: N) => T): Event<T> {
  return (listener) => toDisposable(on((value) => listener(map(value))));
}

// ---------------------------------------------------------------------------------------------
// HostUi: CineCard's views → NovaPOS panels
// ---------------------------------------------------------------------------------------------

const textStyle: Record<NonNullable<Extract<ViewNode, { type: 'text' }>['tone']>, NovaLabelStyle> = {
  normal: 'body',
  muted: 'caption',
  strong: 'emphasis',
  success: 'positive',
  warning: 'caution',
  critical: 'alert',
};
const bannerLevel: Record<Extract<ViewNode, { type: 'banner' }>['tone'], NovaLevel> = { info: 'info', success: 'ok', warning: 'warn', critical: 'error' };

/** One CineCard view node as NovaPOS components (the whole vocabulary: stack, text, banner, field, table, button, progress). */
export function toNova(node: ViewNode): NovaComponent {
  switch (node.type) {
    case 'stack':
      return { kind: node.direction === 'horizontal' ? 'row' : 'column', items: node.children.map(toNova) };
    case 'text':
      // NovaPOS has no text sizes, only styles: large text becomes a heading or title.
      return { kind: 'label', text: node.text, style: node.size === 'xl' ? 'title' : node.size === 'lg' && !node.tone ? 'heading' : textStyle[node.tone ?? 'normal'] };
    case 'banner':
      return { kind: 'notice', level: bannerLevel[node.tone], ...(node.title !== undefined && { heading: node.title }), text: node.text };
    case 'field': {
      const common = { name: node.id, caption: node.label, readOnly: node.disabled ?? false, ...(node.error !== undefined && { errorText: node.error }) };
      switch (node.kind) {
        case 'number':
          // A number field is NovaPOS's stepper (the redemption popup's "uses").
          return { kind: 'stepper', ...common, value: typeof node.value === 'number' ? node.value : node.value ? Number(node.value) : null, increment: node.step ?? 1, ...(node.min !== undefined && { min: node.min }), ...(node.max !== undefined && { max: node.max }) };
        case 'select':
          return { kind: 'picker', ...common, choices: (node.options ?? []).map((o) => ({ key: o.value, text: o.label })), selected: node.value === null || node.value === undefined ? null : String(node.value) };
        default:
          // text, password and date (ISO YYYY-MM-DD) are NovaPOS inputs.
          return { kind: 'input', ...common, inputType: node.kind, value: node.value === null || node.value === undefined ? '' : String(node.value), mandatory: node.required ?? false, ...(node.placeholder !== undefined && { hint: node.placeholder }) };
      }
    }
    case 'table':
      return {
        kind: 'grid',
        ...(node.id !== undefined && { name: node.id }),
        columns: node.columns.map((c) => ({ field: c.key, heading: c.label, rightAligned: c.align === 'end' })),
        rows: node.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)]))),
        placeholder: node.emptyText ?? '',
      };
    case 'button':
      return { kind: 'action', key: node.id, caption: node.label, look: node.variant === 'primary' ? 'main' : node.variant === 'danger' ? 'destructive' : 'plain', enabled: !(node.disabled ?? false), closes: !(node.keepOpen ?? false) };
    case 'progress':
      return { kind: 'meter', value: node.value, total: node.max, caption: node.label ?? '' };
  }
}

/** A CineCard view as a NovaPOS panel: `dialog` (the redemption popup) → compact modal; `screen` → full-screen page. */
export function toPanelSpec(view: View): NovaPanelSpec {
  return { key: view.id, heading: view.title, size: view.type === 'dialog' ? 'compact' : 'fullscreen', closable: view.dismissible ?? false, content: view.children.map(toNova) };
}

export class NovaHostUi implements HostUi {
  private readonly panels = new Map<string, NovaPanel>();

  constructor(private readonly pos: NovaPos) {}

  open(view: View, onAction?: (result: ViewResult) => void): Promise<ViewResult | undefined> {
    return new Promise((resolve) => {
      let result: ViewResult | undefined;
      const panel = this.pos.display.showPanel(toPanelSpec(view), {
        onAction: (action, values) => {
          // NovaPOS calls onAction before closing a `closes` panel: remember the result for onClosed.
          const pressed = { action, values };
          if (this.isKeepOpen(view.id, action)) onAction?.(pressed);
          else result = pressed;
        },
        onClosed: (reason) => {
          if (this.panels.get(view.id) === panel) this.panels.delete(view.id);
          resolve(reason === 'action' ? result : undefined);
        },
      });
      this.panels.set(view.id, panel);
    });
  }

  update(view: View): void {
    this.panels.get(view.id)?.setContent(toPanelSpec(view));
  }

  close(viewId: string): void {
    this.panels.get(viewId)?.close();
  }

  registerMenuEntry(entry: MenuEntry): Disposable {
    // CineCard's groups (card, reports, admin, hq) become sections of NovaPOS's function menu.
    return toDisposable(this.pos.menu.add({ key: entry.id, caption: entry.title, section: `CineCard · ${entry.group ?? 'card'}`, onSelect: () => entry.run() }));
  }

  /** Optional in the contract: with it, CineCard's statistics screen offers .xlsx / CSV exports. */
  async offerFile(file: OfferedFile): Promise<void> {
    const path = this.pos.files.save(file.name, file.data);
    this.pos.display.toast(`${file.name} → ${path}`, 'ok');
  }

  private isKeepOpen(viewId: string, action: string): boolean {
    const button = this.panels.get(viewId)?.components().find((c) => c.kind === 'action' && c.key === action);
    return button?.kind === 'action' && !button.closes;
  }
}

// ---------------------------------------------------------------------------------------------
// HostSession: NovaPOS's signed-in cashier and language
// ---------------------------------------------------------------------------------------------

const toLocale = (language: string): Locale => (language === 'en-US' ? 'en' : 'zh-CN');

export class NovaHostSession implements HostSession {
  readonly onOperatorChanged: Event<HostOperator | undefined>;
  readonly onLocaleChanged: Event<Locale>;

  constructor(private readonly pos: NovaPos) {
    this.onOperatorChanged = asEvent(pos.session.onCashierChanged, (c) => (c ? { id: c.staffNo, name: c.displayName } : undefined));
    this.onLocaleChanged = asEvent(pos.session.onLanguageChanged, toLocale);
  }

  /** The operator id is NovaPOS's staff number: CineCard maps it onto a CineCard user (`hostOperatorId`). */
  get operator(): HostOperator | undefined {
    const c = this.pos.session.cashier;
    return c ? { id: c.staffNo, name: c.displayName } : undefined;
  }

  get stationId(): string {
    return this.pos.session.workstationId;
  }

  get locale(): Locale {
    return toLocale(this.pos.session.language);
  }
}

// ---------------------------------------------------------------------------------------------
// HostSale: NovaPOS's sale → CineCard's `Sale`; the CineCard tender → a NovaPOS payment
// ---------------------------------------------------------------------------------------------

/** The tender code CineCard payments carry in NovaPOS (registered by {@link NovaHostSale.registerTender}). */
export const CINECARD_TENDER = 'CINECARD';

/** Which lines are paid by some payment already: CineCard must not pay them twice. */
function paidLineNos(payments: readonly { readonly lineNos: readonly number[] }[]): Set<number> {
  return new Set(payments.flatMap((p) => p.lineNos));
}

export class NovaHostSale implements HostSale {
  readonly onSaleChanged: Event<Sale | undefined>;

  constructor(private readonly pos: NovaPos) {
    this.onSaleChanged = asEvent(pos.sales.onSaleChanged, () => this.current());
  }

  /** Adds CineCard to NovaPOS's payment methods; dispose to remove it. */
  registerTender(caption = 'CineCard 次卡'): Disposable {
    return toDisposable(this.pos.tenders.register({ code: CINECARD_TENDER, caption }));
  }

  /**
   * The sale as CineCard reads it: admission lines are tickets (one `TicketLine` per seat: a line of
   * quantity 2 is two tickets, each of which takes its own uses), merchandise lines are concessions.
   * Line ids are NovaPOS line numbers (plus the seat); a line already paid is left out.
   */
  current(): Sale | undefined {
    const sale = this.pos.sales.current;
    if (!sale) return undefined;
    const paid = paidLineNos(sale.payments);
    const open = sale.lines.filter((l) => !paid.has(l.lineNo));
    return {
      saleId: sale.saleNo,
      tickets: open
        .filter((l): l is NovaLine & { admission: NonNullable<NovaLine['admission']> } => l.kind === 'admission' && l.admission !== undefined)
        .flatMap((l) =>
          Array.from({ length: l.quantity }, (_, seat) => ({
            lineId: `${l.lineNo}.${seat + 1}`,
            film: l.admission.film,
            format: l.admission.screenFormat,
            showtime: l.admission.startsAt,
            priceFen: l.unitPriceCents,
            ticketType: l.admission.ticketClass,
          })),
        ),
      concessions: open
        .filter((l) => l.kind === 'merchandise')
        .map((l) => ({ lineId: String(l.lineNo), sku: l.sku, name: l.description, quantity: l.quantity, unitPriceFen: l.unitPriceCents })),
      dueFen: sale.balanceDueCents,
    };
  }

  /**
   * CineCard has written the card and recorded the op; now the host adds the payment. A refusal
   * does not undo the deduction (the popup says so and a manager voids it), so refuse only for real.
   */
  async applyTender(tender: CardTender): Promise<TenderOutcome> {
    const sale = this.pos.sales.current;
    if (!sale || sale.saleNo !== tender.saleId) return { accepted: false, reason: 'sale_changed' };
    // The same op applied twice (a settled re-tap) is one payment.
    if (sale.payments.some((p) => p.tenderCode === CINECARD_TENDER && p.reference === tender.opId)) return { accepted: true };
    const lineNos = [...new Set(tender.lineIds.map((id) => Number(id.split('.')[0])))];
    if (lineNos.some((n) => !sale.lines.some((l) => l.lineNo === n))) return { accepted: false, reason: 'unknown_line' };
    const added = this.pos.sales.addPayment({
      tenderCode: CINECARD_TENDER,
      amountCents: Math.min(tender.amountFen, sale.balanceDueCents),
      reference: tender.opId, // printed on the receipt; a void names this op
      lineNos,
    });
    return added.ok ? { accepted: true } : { accepted: false, reason: added.error };
  }
}
