/**
 * `HostUi` for a till whose screen is a browser: views stay on the server as plain data, every
 * change is pushed to the connected pages (the POS server broadcasts {@link BrowserUi.snapshot}),
 * and the pages send button presses and field values back. The pages render the views in the
 * POS's own look; nothing of the plugin runs in the browser.
 *
 * A file the plugin offers (a report export) stays here under a one-time token; the POS server
 * tells the pages its URL and the page downloads it at once. The first download takes it; a token
 * unused for {@link FILE_TTL_MS} is forgotten.
 */
import { randomBytes } from 'node:crypto';
import { parseView, type HostUi, type MenuEntry, type OfferedFile, type View, type ViewNode, type ViewResult } from '../../adapters/host-ui.ts';
import { Emitter, toDisposable, type Disposable } from '../../adapters/lifecycle.ts';
import type { Logger } from '../../adapters/logger.ts';

interface OpenView {
  view: View;
  /** Bumped on every update, so a page knows which version a press was made against. */
  revision: number;
  readonly resolve: (r: ViewResult | undefined) => void;
  readonly onAction: ((r: ViewResult) => void) | undefined;
}

export interface ViewState {
  readonly view: View;
  readonly revision: number;
}

/** How long an offered file waits to be downloaded. */
export const FILE_TTL_MS = 10 * 60_000;

/** A file waiting for its download: `token` names it in the one-time URL. */
export interface FileOffer {
  readonly token: string;
  readonly name: string;
}

export interface MenuState {
  readonly id: string;
  readonly title: string;
  readonly group: string | undefined;
}

function nodes(view: View): ViewNode[] {
  const out: ViewNode[] = [];
  const walk = (n: ViewNode) => {
    out.push(n);
    if (n.type === 'stack') n.children.forEach(walk);
  };
  view.children.forEach(walk);
  return out;
}

export class BrowserUi implements HostUi, Disposable {
  private readonly views = new Map<string, OpenView>();
  private readonly menu = new Map<string, MenuEntry>();
  private readonly changed = new Emitter<void>();
  /** Views or menu changed. */
  readonly onChanged = this.changed.event;
  private readonly files = new Map<string, { readonly file: OfferedFile; readonly expires: number }>();
  private readonly fileOffered = new Emitter<FileOffer>();
  /** The plugin offered a file: the pages should download it. */
  readonly onFileOffered = this.fileOffered.event;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  open(view: View, onAction?: (result: ViewResult) => void): Promise<ViewResult | undefined> {
    const v = parseView(view);
    // A view id already open is replaced: its earlier `open` ends as closed.
    this.end(v.id, undefined);
    return new Promise((resolve) => {
      this.views.set(v.id, { view: v, revision: 0, resolve, onAction });
      this.changed.fire();
    });
  }

  update(view: View): void {
    const v = parseView(view);
    const o = this.views.get(v.id);
    if (!o) return;
    o.view = v;
    o.revision++;
    this.changed.fire();
  }

  close(viewId: string): void {
    this.end(viewId, undefined);
  }

  registerMenuEntry(entry: MenuEntry): Disposable {
    this.menu.set(entry.id, entry);
    this.changed.fire();
    return toDisposable(() => {
      if (this.menu.get(entry.id) === entry) this.menu.delete(entry.id);
      this.changed.fire();
    });
  }

  async offerFile(file: OfferedFile): Promise<void> {
    this.forgetExpired();
    const token = randomBytes(16).toString('hex');
    // A copy: the plugin may reuse its buffer once this resolves.
    this.files.set(token, { file: { name: file.name, mimeType: file.mimeType, data: Uint8Array.from(file.data) }, expires: this.now() + FILE_TTL_MS });
    this.fileOffered.fire({ token, name: file.name });
  }

  /** The file offered under `token`, once: afterwards (or once expired) there is none. */
  takeFile(token: string): OfferedFile | undefined {
    this.forgetExpired();
    const held = this.files.get(token);
    this.files.delete(token);
    return held?.file;
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [token, held] of this.files) if (held.expires <= now) this.files.delete(token);
  }

  /** What the pages draw: open views (oldest first, the top one last) and the menu. */
  snapshot(): { views: ViewState[]; menu: MenuState[] } {
    return {
      views: [...this.views.values()].map((o) => ({ view: o.view, revision: o.revision })),
      menu: [...this.menu.values()].map((m) => ({ id: m.id, title: m.title, group: m.group })),
    };
  }

  /** A page pressed a button; values are the page's field values. Unknown or disabled buttons are ignored. */
  press(viewId: string, action: string, values: Record<string, string | number | null>): void {
    const o = this.views.get(viewId);
    if (!o) return;
    const all = nodes(o.view);
    const button = all.find((n): n is Extract<ViewNode, { type: 'button' }> => n.type === 'button' && n.id === action);
    if (!button || button.disabled) return;
    const result: ViewResult = { action, values: this.coerce(all, values) };
    if (button.keepOpen) o.onAction?.(result);
    else this.end(viewId, result);
  }

  /** The cashier dismissed a dismissible view (Esc, ×). */
  dismiss(viewId: string): void {
    if (this.views.get(viewId)?.view.dismissible) this.end(viewId, undefined);
  }

  runMenu(id: string): void {
    const entry = this.menu.get(id);
    if (!entry) return;
    try {
      entry.run();
    } catch (err) {
      this.logger.error({ err: String(err), entry: id }, 'a menu entry failed');
    }
  }

  dispose(): void {
    for (const id of [...this.views.keys()]) this.end(id, undefined);
    this.menu.clear();
    this.files.clear();
    this.changed.dispose();
    this.fileOffered.dispose();
  }

  /** Field values as the contract types them: numbers for number fields, strings otherwise; only the view's fields. */
  private coerce(all: ViewNode[], values: Record<string, string | number | null>): Record<string, string | number | null> {
    const out: Record<string, string | number | null> = {};
    for (const n of all) {
      if (n.type !== 'field') continue;
      const raw = Object.hasOwn(values, n.id) ? values[n.id] : (n.value ?? null);
      if (raw === null || raw === undefined || raw === '') out[n.id] = n.kind === 'number' ? null : (raw ?? null);
      else if (n.kind === 'number') out[n.id] = Number.isFinite(Number(raw)) ? Number(raw) : null;
      else out[n.id] = String(raw);
    }
    return out;
  }

  private end(viewId: string, result: ViewResult | undefined): void {
    const o = this.views.get(viewId);
    if (!o) return;
    this.views.delete(viewId);
    this.changed.fire();
    o.resolve(result);
  }
}
