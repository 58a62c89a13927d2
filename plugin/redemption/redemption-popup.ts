/**
 * The redemption popup as plain data (`HostUi` views): one builder per moment of a tap. Pure; every
 * string comes from the catalogue through the translator.
 */
import type { View, ViewNode } from '../../adapters/host-ui.ts';
import type { CardReadable } from '../card/card-outcome.ts';
import type { MessageKey, MessageParams } from '../i18n/catalogue.ts';
import type { Translator } from '../i18n/translator.ts';
import type { Consumption, Deduction } from './redemption-rules.ts';

export const FIELD_USES = 'uses';
export const FIELD_CONSUMPTION = 'consumption';
export const ACTION_CONFIRM = 'confirm';
export const ACTION_CANCEL = 'cancel';
export const ACTION_CLOSE = 'close';

export interface CardFacts {
  readonly card: CardReadable;
  /** The card type's name, when this terminal knows the type. */
  readonly typeName: string | undefined;
  /** Formats Unix seconds as the cinema's local date. */
  readonly date: (unixSeconds: number) => string;
}

export interface Notice {
  readonly tone: 'info' | 'success' | 'warning' | 'critical';
  readonly key: MessageKey;
  readonly params?: MessageParams;
}

/** The card's data as the popup and the management screens list it. */
export function cardLines(t: Translator, f: CardFacts, remaining = f.card.record.remainingUses): ViewNode[] {
  const s = f.card.static, r = f.card.record;
  return [
    { type: 'text', text: t.t('redeem.card_no', { cardNo: String(s.cardNumber) }), tone: 'strong', size: 'lg' },
    { type: 'text', text: t.t('redeem.card_type', { type: f.typeName ?? t.t('redeem.card_type_code', { code: s.cardType }) }) },
    { type: 'text', text: t.t('redeem.remaining', { remaining }), tone: 'strong', size: 'xl' },
    { type: 'text', text: t.t('redeem.expiry', { date: f.date(r.expiry) }) },
    { type: 'text', text: t.t('redeem.status', { status: t.t(`status.${r.status}`) }) },
  ];
}

const banner = (t: Translator, n: Notice): ViewNode => ({ type: 'banner', tone: n.tone, text: t.t(n.key, n.params) });

function dialog(viewId: string, t: Translator, children: ViewNode[]): View {
  return { type: 'dialog', id: viewId, title: t.t('redeem.title'), dismissible: true, children };
}

export interface OfferInput {
  readonly facts: CardFacts;
  readonly deductions: Record<Consumption, Deduction>;
  readonly consumption: Consumption;
  /** The most the cashier may deduct now (remaining uses, capped by configuration). */
  readonly maxUses: number;
  /** Whether the cashier may redeem; when not, `refusal` says why and nothing is editable. */
  readonly allowed: boolean;
  readonly refusal?: MessageKey;
  readonly hasSale: boolean;
  readonly notices: readonly Notice[];
  /** Values to show instead of the proposal (the cashier's, after a rejected entry). */
  readonly entered?: { readonly uses: number | string | null; readonly consumption: Consumption };
  readonly usesError?: string;
}

/** The card is usable: its data, the proposed deduction, confirm and cancel. */
export function offerView(viewId: string, t: Translator, o: OfferInput): View {
  const proposed = o.deductions[o.entered?.consumption ?? o.consumption];
  const byRule = proposed.byRule;
  const children: ViewNode[] = [...o.notices.map((n) => banner(t, n)), ...cardLines(t, o.facts)];
  if (!o.allowed) children.push(banner(t, { tone: 'warning', key: o.refusal ?? 'redeem.no_permission' }));
  children.push({
    type: 'stack',
    direction: 'horizontal',
    children: [
      {
        type: 'field', id: FIELD_CONSUMPTION, kind: 'select', label: t.t('redeem.consumption'), value: o.entered?.consumption ?? o.consumption,
        disabled: !o.allowed,
        options: (['ticket', 'concession'] as const).map((c) => ({ value: c, label: t.t(`redeem.consumption.${c}`) })),
      },
      {
        type: 'field', id: FIELD_USES, kind: 'number', label: t.t('redeem.uses'), value: o.entered?.uses ?? Math.min(proposed.uses, o.maxUses),
        min: 1, max: o.maxUses, step: 1, required: true, disabled: !o.allowed,
        ...(o.usesError !== undefined && { error: o.usesError }),
      },
    ],
  });
  children.push({
    type: 'text', tone: 'muted',
    text: o.hasSale
      ? `${t.t('redeem.proposal', { ticket: o.deductions.ticket.uses, concession: o.deductions.concession.uses })} ${t.t(byRule ? 'redeem.prefill_rule' : 'redeem.prefill_default')}`
      : t.t('redeem.no_sale'),
  });
  children.push({
    type: 'stack',
    direction: 'horizontal',
    children: [
      { type: 'button', id: ACTION_CONFIRM, label: t.t('redeem.confirm'), variant: 'primary', keepOpen: true, disabled: !o.allowed },
      { type: 'button', id: ACTION_CANCEL, label: t.t('redeem.cancel'), variant: 'secondary' },
    ],
  });
  return dialog(viewId, t, children);
}

/** Nothing may be done with this card: why, and its data when it could be read. */
export function refusalView(viewId: string, t: Translator, problem: Notice, facts: CardFacts | undefined, notices: readonly Notice[] = []): View {
  return dialog(viewId, t, [
    ...notices.map((n) => banner(t, n)),
    banner(t, problem),
    ...(facts ? cardLines(t, facts) : []),
    { type: 'button', id: ACTION_CLOSE, label: t.t('redeem.close') },
  ]);
}

/** The write is under way. */
export function writingView(viewId: string, t: Translator, facts: CardFacts): View {
  return dialog(viewId, t, [
    ...cardLines(t, facts),
    { type: 'progress', value: 1, max: 2, label: t.t('redeem.writing') },
  ]);
}

/** The outcome of a write (or of resolving one): new balance or what to do now. */
export function resultView(viewId: string, t: Translator, facts: CardFacts | undefined, notices: readonly Notice[]): View {
  return dialog(viewId, t, [
    ...notices.map((n) => banner(t, n)),
    ...(facts ? cardLines(t, facts) : []),
    { type: 'button', id: ACTION_CLOSE, label: t.t('redeem.close') },
  ]);
}
