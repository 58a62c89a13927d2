/**
 * A recording fake of the host (after Shopify POS UI extensions' typed partial host): it records
 * every view opened, updated and closed, lets a test press buttons and fill fields, and plays the
 * session and the sale. Views are validated with the contract's zod schema, as a real host would.
 * It takes the files the plugin offers (`offerFile`, optional in the contract) and keeps them, unless
 * made without that capability.
 */
import type { CardTender, HostSale, Sale, TenderOutcome } from '../../adapters/host-sale.ts';
import type { HostOperator, HostSession, Locale } from '../../adapters/host-session.ts';
import { parseView, type HostUi, type MenuEntry, type OfferedFile, type View, type ViewNode, type ViewResult } from '../../adapters/host-ui.ts';
import { Emitter, toDisposable, type Disposable } from '../../adapters/lifecycle.ts';
import type { Logger } from '../../adapters/logger.ts';

/** One line the plugin logged through the host's {@link FakeHost.logger}. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A Logger that keeps every line in `lines` (children add their bindings to the fields). */
export function recordingLogger(lines: LogLine[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: LogLine['level']) => (a: Record<string, unknown> | string, b?: string) =>
    void lines.push(typeof a === 'string' ? { level, msg: a, fields: { ...bindings } } : { level, msg: b ?? '', fields: { ...bindings, ...a } });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

export interface UiEvent {
  readonly kind: 'open' | 'update' | 'close';
  readonly viewId: string;
  readonly view?: View;
  /** `performance.now()` when it happened. */
  readonly at: number;
}

interface OpenView {
  view: View;
  readonly resolve: (r: ViewResult | undefined) => void;
  readonly onAction: ((r: ViewResult) => void) | undefined;
}

/** Every node of a view, depth first. */
export function nodes(view: View): ViewNode[] {
  const out: ViewNode[] = [];
  const walk = (n: ViewNode) => {
    out.push(n);
    if (n.type === 'stack') n.children.forEach(walk);
  };
  view.children.forEach(walk);
  return out;
}

/** The text of every text and banner node: what the cashier reads. */
export function texts(view: View): string[] {
  return nodes(view).flatMap((n) => (n.type === 'text' || n.type === 'banner' ? [n.text] : []));
}

export class FakeHost {
  readonly events: UiEvent[] = [];
  readonly menu = new Map<string, MenuEntry>();
  readonly tenders: CardTender[] = [];
  /** The files the plugin offered, in order. */
  readonly offeredFiles: OfferedFile[] = [];
  /** What `applyTender` answers. */
  tenderOutcome: TenderOutcome = { accepted: true };
  private readonly open = new Map<string, OpenView>();
  private readonly waiters = new Set<() => void>();
  private currentSale: Sale | undefined;
  private op: HostOperator | undefined;
  private loc: Locale;
  private readonly operatorChanged = new Emitter<HostOperator | undefined>();
  private readonly localeChanged = new Emitter<Locale>();
  private readonly saleChanged = new Emitter<Sale | undefined>();
  nowMs: number;

  /** `offerFile: false`: a host without the optional file capability. */
  constructor(options: { operator?: HostOperator; locale?: Locale; nowMs?: number; sale?: Sale; offerFile?: boolean } = {}) {
    if (options.offerFile === false) delete this.ui.offerFile;
    this.op = options.operator;
    this.loc = options.locale ?? 'zh-CN';
    this.nowMs = options.nowMs ?? Date.UTC(2026, 10, 25, 6, 0, 0);
    this.currentSale = options.sale;
  }

  readonly clock = { now: () => this.nowMs };
  /** What the plugin logged through {@link logger}. */
  readonly logs: LogLine[] = [];
  readonly logger: Logger = recordingLogger(this.logs);

  readonly ui: HostUi = {
    open: (view, onAction) => {
      const v = parseView(view);
      if (this.open.has(v.id)) throw new Error(`view ${v.id} is already open`);
      return new Promise<ViewResult | undefined>((resolve) => {
        this.open.set(v.id, { view: v, resolve, onAction });
        this.record({ kind: 'open', viewId: v.id, view: v, at: performance.now() });
      });
    },
    update: (view) => {
      const v = parseView(view);
      const o = this.open.get(v.id);
      if (!o) return; // updating a closed view is harmless, as in a real host
      o.view = v;
      this.record({ kind: 'update', viewId: v.id, view: v, at: performance.now() });
    },
    close: (viewId) => this.end(viewId, undefined),
    registerMenuEntry: (entry): Disposable => {
      this.menu.set(entry.id, entry);
      return toDisposable(() => this.menu.delete(entry.id));
    },
    offerFile: async (file) => {
      this.offeredFiles.push({ name: file.name, mimeType: file.mimeType, data: Uint8Array.from(file.data) });
      for (const w of [...this.waiters]) w();
    },
  };

  readonly session: HostSession = ((self: FakeHost): HostSession => ({
    get operator() { return self.op; },
    stationId: 'POS-1',
    get locale() { return self.loc; },
    onOperatorChanged: self.operatorChanged.event,
    onLocaleChanged: self.localeChanged.event,
  }))(this);

  readonly sale: HostSale = {
    current: () => this.currentSale,
    onSaleChanged: this.saleChanged.event,
    applyTender: async (tender) => {
      this.tenders.push(tender);
      return this.tenderOutcome;
    },
  };

  setSale(sale: Sale | undefined): void {
    this.currentSale = sale;
    this.saleChanged.fire(sale);
  }

  /** `notify: false`: the operator changes without the event (a host that reports it late, or not at all). */
  setOperator(op: HostOperator | undefined, { notify = true }: { notify?: boolean } = {}): void {
    this.op = op;
    if (notify) this.operatorChanged.fire(op);
  }

  setLocale(locale: Locale): void {
    this.loc = locale;
    this.localeChanged.fire(locale);
  }

  /** Listeners the plugin holds on the session and the sale (0 after a clean dispose). */
  get listenerCount(): number {
    return this.operatorChanged.listenerCount + this.localeChanged.listenerCount + this.saleChanged.listenerCount;
  }

  /** Views open now, by id. */
  get openViews(): View[] {
    return [...this.open.values()].map((o) => o.view);
  }

  view(viewId: string): View | undefined {
    return this.open.get(viewId)?.view;
  }

  /** Waits until an open view satisfies `test` (checked now and on every UI event). */
  waitForView(test: (v: View) => boolean, timeoutMs = 5000, what = 'a matching view'): Promise<View> {
    return this.waitUntil(() => this.openViews.find(test), timeoutMs, what);
  }

  /** Waits until no view is open. */
  async waitForNoView(timeoutMs = 5000): Promise<void> {
    await this.waitUntil(() => (this.open.size === 0 ? true : undefined), timeoutMs, 'every view closed');
  }

  waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = check();
      if (now !== undefined) return resolve(now);
      // UI events re-check at once; a poll catches changes that show no view (a user mapped …).
      const poll = setInterval(() => probe(), 5);
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.waiters.delete(probe);
        reject(new Error(`timed out waiting for ${what}; open: ${JSON.stringify(this.openViews.map((v) => texts(v)))}`));
      }, timeoutMs);
      const probe = () => {
        const v = check();
        if (v === undefined) return;
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(probe);
        resolve(v);
      };
      this.waiters.add(probe);
    });
  }

  /**
   * Presses a button of an open view with the fields' current values, overridden by `values`.
   * A `keepOpen` button reports through `onAction`; any other ends the view with the result.
   */
  press(viewId: string, action: string, values: Record<string, string | number | null> = {}): void {
    const o = this.open.get(viewId);
    if (!o) throw new Error(`view ${viewId} is not open`);
    const button = nodes(o.view).find((n) => n.type === 'button' && n.id === action);
    if (!button || button.type !== 'button') throw new Error(`view ${viewId} has no button ${action}`);
    if (button.disabled) throw new Error(`button ${action} of ${viewId} is disabled`);
    const current: Record<string, string | number | null> = {};
    for (const n of nodes(o.view)) if (n.type === 'field') current[n.id] = n.value ?? null;
    const result: ViewResult = { action, values: { ...current, ...values } };
    if (button.keepOpen) o.onAction?.(result);
    else this.end(viewId, result);
  }

  /** The cashier dismisses the view (Esc, ×). */
  dismiss(viewId: string): void {
    this.end(viewId, undefined);
  }

  private end(viewId: string, result: ViewResult | undefined): void {
    const o = this.open.get(viewId);
    if (!o) return;
    this.open.delete(viewId);
    this.record({ kind: 'close', viewId, at: performance.now() });
    o.resolve(result);
  }

  private record(e: UiEvent): void {
    this.events.push(e);
    for (const w of [...this.waiters]) w();
  }
}
