/**
 * What every management screen shows, as plain data: one view id per screen, opened and updated as
 * the screen goes on, built from a few node helpers. Every string comes from the catalogue.
 */
import type { HostUi, View, ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { MessageKey, MessageParams } from '../i18n/catalogue.ts';
import type { Translator } from '../i18n/translator.ts';

export type Tone = 'info' | 'success' | 'warning' | 'critical';

/** A message to show: a catalogue key with its parameters and tone. */
export interface Notice {
  readonly tone: Tone;
  readonly key: MessageKey;
  readonly params?: MessageParams;
}

export const ACTION_CLOSE = 'close';
export const ACTION_CANCEL = 'cancel';
export const ACTION_CONFIRM = 'confirm';

/** Node builders bound to the session's language. */
export class ViewKit {
  constructor(readonly i18n: Translator) {}

  t(key: MessageKey, params?: MessageParams): string {
    return this.i18n.t(key, params);
  }

  text(key: MessageKey, params?: MessageParams, tone?: 'normal' | 'muted' | 'strong'): ViewNode {
    return { type: 'text', text: this.t(key, params), ...(tone && { tone }) };
  }

  banner(n: Notice): ViewNode {
    return { type: 'banner', tone: n.tone, text: this.t(n.key, n.params) };
  }

  button(id: string, key: MessageKey, variant: 'primary' | 'secondary' | 'danger' = 'secondary', disabled = false): ViewNode {
    return { type: 'button', id, label: this.t(key), variant, ...(disabled && { disabled }) };
  }

  /** Confirm (primary) and cancel, side by side. */
  confirmCancel(confirmKey: MessageKey, disabled = false): ViewNode {
    return { type: 'stack', direction: 'horizontal', children: [this.button(ACTION_CONFIRM, confirmKey, 'primary', disabled), this.button(ACTION_CANCEL, 'screen.cancel')] };
  }

  close(): ViewNode {
    return this.button(ACTION_CLOSE, 'screen.close');
  }

  field(id: string, kind: 'number' | 'text' | 'password' | 'date', labelKey: MessageKey, value: string | number | null, extra: { required?: boolean; min?: number; max?: number; error?: string } = {}): ViewNode {
    return { type: 'field', id, kind, label: this.t(labelKey), value, ...(kind === 'number' && { step: 1 }), ...extra };
  }

  select(id: string, labelKey: MessageKey, value: string, options: readonly { value: string; label: string }[]): ViewNode {
    return { type: 'field', id, kind: 'select', label: this.t(labelKey), value, options: [...options] };
  }

  table(id: string, columns: readonly [key: string, labelKey: MessageKey][], rows: Record<string, string | number | null>[], emptyKey: MessageKey): ViewNode {
    return { type: 'table', id, columns: columns.map(([key, labelKey]) => ({ key, label: this.t(labelKey) })), rows, emptyText: this.t(emptyKey) };
  }
}

/** One screen's view in the host: opened, updated and reopened under the same id. */
export class ScreenView {
  constructor(
    private readonly ui: HostUi,
    readonly kit: ViewKit,
    readonly id: string,
    private readonly title: MessageKey,
  ) {}

  private view(children: ViewNode[]): View {
    return { type: 'screen', id: this.id, title: this.kit.t(this.title), dismissible: true, children };
  }

  /** Shows the view; resolves with the button pressed, or undefined when dismissed or closed. */
  open(children: ViewNode[], onAction?: (r: ViewResult) => void): Promise<ViewResult | undefined> {
    return this.ui.open(this.view(children), onAction);
  }

  update(children: ViewNode[]): void {
    this.ui.update(this.view(children));
  }

  close(): void {
    this.ui.close(this.id);
  }

  /** Shows notices (and anything else) with a close button; resolves when it is closed. */
  async notify(notices: readonly Notice[], extra: ViewNode[] = []): Promise<void> {
    await this.open([...notices.map((n) => this.kit.banner(n)), ...extra, this.kit.close()]);
  }
}

/** A field value as text (trimmed), whatever the host sent. */
export function textValue(r: ViewResult, id: string): string {
  const v = r.values[id];
  return v === null || v === undefined ? '' : String(v).trim();
}

/** A field value as a whole number, or undefined when it is not one. */
export function intValue(r: ViewResult, id: string): number | undefined {
  const s = textValue(r, id);
  const n = s === '' ? NaN : Number(s);
  return Number.isInteger(n) ? n : undefined;
}
