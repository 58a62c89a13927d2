/**
 * `HostUi`: how the plugin shows things inside the host's own screens. Views are plain data in a
 * small component vocabulary, validated with zod, so any host renders them natively in its own look
 * (after Shopify POS UI extensions and Dynamics 365 Commerce POS dialogs). The plugin never touches
 * the host's widgets; the host never interprets the plugin's business.
 */
import type { InjectionToken } from 'tsyringe';
import { z } from 'zod';
import type { Disposable } from './lifecycle.ts';

const id = z.string().min(1).max(100);
const label = z.string().max(500);

export const TextNode = z.object({
  type: z.literal('text'),
  text: label,
  /** How it stands out; hosts map tones to their own styles. */
  tone: z.enum(['normal', 'muted', 'strong', 'success', 'warning', 'critical']).optional(),
  size: z.enum(['sm', 'md', 'lg', 'xl']).optional(),
});

const optionSchema = z.object({ value: z.string(), label });

/** An input. Its value comes back in the result's `values` under its `id`. */
export const FieldNode = z.object({
  type: z.literal('field'),
  id,
  kind: z.enum(['number', 'text', 'password', 'select', 'date']),
  label,
  /** Initial value: a number for `number`, an ISO date (YYYY-MM-DD) for `date`, else a string. */
  value: z.union([z.string(), z.number(), z.null()]).optional(),
  required: z.boolean().optional(),
  disabled: z.boolean().optional(),
  placeholder: label.optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive().optional(),
  options: z.array(optionSchema).optional(),
  /** A problem with the current value, shown beside the field. */
  error: label.optional(),
});

export const TableNode = z.object({
  type: z.literal('table'),
  id: id.optional(),
  columns: z.array(z.object({ key: id, label, align: z.enum(['start', 'end']).optional() })).min(1),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
  emptyText: label.optional(),
});

/** A button ends the view with its `id` as the result's `action`, unless `keepOpen` is set. */
export const ButtonNode = z.object({
  type: z.literal('button'),
  id,
  label,
  variant: z.enum(['primary', 'secondary', 'danger']).optional(),
  disabled: z.boolean().optional(),
  /** Report the action through `onAction` and keep the view open (e.g. "refresh", "next page"). */
  keepOpen: z.boolean().optional(),
});

export const BannerNode = z.object({
  type: z.literal('banner'),
  tone: z.enum(['info', 'success', 'warning', 'critical']),
  title: label.optional(),
  text: label,
});

export const ProgressNode = z.object({
  type: z.literal('progress'),
  value: z.number().min(0),
  max: z.number().positive(),
  label: label.optional(),
});

export type ViewNode =
  | z.infer<typeof TextNode>
  | z.infer<typeof FieldNode>
  | z.infer<typeof TableNode>
  | z.infer<typeof ButtonNode>
  | z.infer<typeof BannerNode>
  | z.infer<typeof ProgressNode>
  | { type: 'stack'; direction?: 'vertical' | 'horizontal'; children: ViewNode[] };

export const ViewNode: z.ZodType<ViewNode> = z.lazy(() =>
  z.discriminatedUnion('type', [
    TextNode,
    FieldNode,
    TableNode,
    ButtonNode,
    BannerNode,
    ProgressNode,
    z.object({
      type: z.literal('stack'),
      direction: z.enum(['vertical', 'horizontal']).optional(),
      children: z.array(ViewNode),
    }),
  ]),
);

/**
 * A view the host shows: a `dialog` (modal, small: the redemption popup) or a `screen` (a full
 * management page). `id` names it for `update` and `close`.
 */
export const View = z.object({
  type: z.enum(['dialog', 'screen']),
  id,
  title: label,
  children: z.array(ViewNode),
  /** Whether the cashier may dismiss it (Esc, ×); dismissing resolves `open` with `undefined`. */
  dismissible: z.boolean().optional(),
});
export type View = z.infer<typeof View>;

/** What a view ended with: the button pressed and every field's value at that moment. */
export interface ViewResult {
  readonly action: string;
  readonly values: Readonly<Record<string, string | number | null>>;
}

/** An entry in the host's menu that opens one of the plugin's screens. */
export interface MenuEntry {
  readonly id: string;
  readonly title: string;
  /** Groups entries in the host's menu, e.g. "card" or "reports". */
  readonly group?: string;
  run(): void;
}

export interface HostUi {
  /**
   * Shows a view (validated against {@link View}); resolves when it ends: with the pressed button's
   * result, or `undefined` when it was dismissed or closed by `close`. Never rejects for a cashier's
   * action. `onAction` receives `keepOpen` buttons' presses while the view stays open.
   */
  open(view: View, onAction?: (result: ViewResult) => void): Promise<ViewResult | undefined>;
  /** Replaces an open view's content (same `id`); field values the cashier typed are kept. */
  update(view: View): void;
  /** Closes an open view; its `open` resolves with `undefined`. Closing a closed view is a no-op. */
  close(viewId: string): void;
  /** Adds an entry to the host's menu until disposed. */
  registerMenuEntry(entry: MenuEntry): Disposable;
  /**
   * Optional: hands the cashier a file the plugin made (a report export), for the host to save or
   * download in its own way. Resolves once the host has taken the file (not when the cashier has
   * saved it); rejects when it could not. A host without it offers no file: the plugin then shows
   * no export actions.
   */
  offerFile?(file: OfferedFile): Promise<void>;
}

/** A file the plugin hands to the host ({@link HostUi.offerFile}). */
export interface OfferedFile {
  /** A file name to suggest, with its extension (e.g. `统计-2026-11-25.xlsx`). */
  readonly name: string;
  /** Its media type, e.g. `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` or `text/csv`. */
  readonly mimeType: string;
  readonly data: Uint8Array;
}

export const HostUi: InjectionToken<HostUi> = Symbol.for('cinecard.HostUi');

/** Validates a view, throwing a readable error naming the bad part (a plugin bug, not user input). */
export function parseView(view: unknown): View {
  const r = View.safeParse(view);
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join('.') || '(view)'}: ${i.message}`).join('; ');
    throw new TypeError(`invalid view: ${where}`);
  }
  return r.data;
}
