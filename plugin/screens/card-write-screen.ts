/**
 * The shape of every screen that writes a card (sell, renew, re-issue, HQ top-up): ask for the
 * card → show it and the screen's fields, or why this card cannot be used here → confirm → the
 * permission is checked again → the card is written through the journal and the op recorded with
 * it → central is told when online (else the op waits in the outbox) → the result. A subclass says
 * what it checks, asks and writes.
 */
import type { ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { Actor, Permission } from '../auth/permissions.ts';
import type { CardRecordInput } from '../card/card-data.ts';
import type { CardReadable } from '../card/card-outcome.ts';
import type { MessageKey } from '../i18n/catalogue.ts';
import type { Op, OpDraft } from '../store/terminal-store.ts';
import type { CardChange } from './central-link.ts';
import type { MenuGroup, PluginScreen } from './plugin-screen.ts';
import type { ScreenContext, TappedCard } from './screen-context.ts';
import { ACTION_CANCEL, ACTION_CONFIRM, type Notice, type ScreenView } from './screen-view.ts';

export const FIELD_EXPIRY = 'expiry';

/** A rejected entry: which field, and the message shown beside it. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** A field's shown value: the cashier's after a rejected entry, else the default. */
export function fieldValue(entered: ViewResult | undefined, id: string, fallback: string | number): string | number {
  const v = entered?.values[id];
  return v === undefined || v === null ? fallback : v;
}

export const errorFor = (error: FieldError | undefined, id: string) => (error?.field === id ? { error: error.message } : {});

/** What confirming will write, or why the entered values cannot be used (shown by the field). */
export type WritePlan =
  | { readonly kind: 'write'; readonly next: CardRecordInput; readonly draft: Omit<OpDraft, 'cardNo' | 'cardSeq' | 'operatorId'> }
  | { readonly kind: 'invalid'; readonly field: string; readonly message: MessageKey; readonly params?: Record<string, string | number> };

export abstract class CardWriteScreen implements PluginScreen {
  abstract readonly id: string;
  abstract readonly title: MessageKey;
  abstract readonly permission: Permission;
  /** Every card-writing screen asks for the card first. */
  readonly takesTaps = true;
  abstract readonly group: MenuGroup;
  /** The confirm button's label. */
  protected abstract readonly confirmKey: MessageKey;
  /** The success message (params: `cardNo`, plus the op's `uses`, `remaining`, `date`). */
  protected abstract readonly doneKey: MessageKey;

  constructor(protected readonly ctx: ScreenContext) {}

  /** Why this card's state does not fit this screen, if it does not. */
  protected abstract stateRefusal(card: CardReadable): Notice | undefined;
  /** The fields to fill, with their defaults (or the cashier's values after a rejected entry). */
  protected abstract fields(card: CardReadable, entered: ViewResult | undefined, error: FieldError | undefined): Promise<ViewNode[]>;
  protected abstract plan(card: CardReadable, values: ViewResult): Promise<WritePlan>;
  /** What central must record of the op (through its API). */
  protected abstract centralChange(op: Op, card: CardReadable): CardChange;

  /** Why this card cannot be used here: blacklisted, blocked, or a state that does not fit. */
  protected async refusal(card: CardReadable): Promise<Notice | undefined> {
    if (await this.ctx.cards.isBlacklisted(String(card.static.cardNumber))) return { tone: 'critical', key: 'card.blacklisted' };
    if (card.static.blocked) return { tone: 'critical', key: 'card.blocked' };
    return this.stateRefusal(card);
  }

  /** The card's status in words. */
  protected status(card: CardReadable): string {
    return this.ctx.kit.t(`status.${card.record.status}`);
  }

  /** An expiry date field: the cashier's value after a rejected entry, else the card type's validity from today. */
  protected async expiryField(card: CardReadable, entered: ViewResult | undefined, error: FieldError | undefined, label: MessageKey = 'screen.expiry'): Promise<ViewNode> {
    const type = await this.ctx.types.byCode(card.static.cardType);
    return this.ctx.kit.field(FIELD_EXPIRY, 'date', label, fieldValue(entered, FIELD_EXPIRY, this.ctx.defaultExpiryDate(type)), { required: true, ...errorFor(error, FIELD_EXPIRY) });
  }

  /** The record fields every write sets: when, where, and the record otherwise unchanged. */
  protected base(card: CardReadable): CardRecordInput {
    const { seq: _seq, ...r } = card.record;
    const t = this.ctx.config.terminal;
    return { ...r, lastTxTime: this.ctx.nowSeconds(), lastCinema: t.cinemaCode, lastTerminal: t.terminalNumber, lastAmount: 0 };
  }

  async open(_actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const k = ctx.kit;
    const view = ctx.view(this.id, this.title);
    const tap = await ctx.tapUsable(view, [k.text('screen.tap_card', undefined, 'strong'), { type: 'progress', value: 0, max: 1, label: k.t('screen.waiting_for_card') }, k.button(ACTION_CANCEL, 'screen.cancel')]);
    if (!tap) return;
    const problem = await this.refusal(tap.card);
    if (problem) {
      view.update([...tap.notices.map((n) => k.banner(n)), k.banner(problem), ...(await ctx.cardLines(tap.card)), k.close()]);
      await tap.ended;
      return;
    }
    let ended = tap.ended;
    let entered: ViewResult | undefined;
    let error: FieldError | undefined;
    for (;;) {
      const form = [...tap.notices.map((n) => k.banner(n)), ...(await ctx.cardLines(tap.card)), ...(await this.fields(tap.card, entered, error)), k.confirmCancel(this.confirmKey)];
      if (entered) ended = view.open(form);
      else view.update(form);
      const r = await ended;
      if (r?.action !== ACTION_CONFIRM) return;
      const plan = await this.plan(tap.card, r);
      if (plan.kind === 'invalid') {
        entered = r;
        error = { field: plan.field, message: k.t(plan.message, plan.params) };
        continue;
      }
      await this.commit(view, tap, plan);
      return;
    }
  }

  private async commit(view: ScreenView, tapped: TappedCard, plan: Extract<WritePlan, { kind: 'write' }>): Promise<void> {
    const { ctx } = this;
    const actor = await ctx.allowed(this.permission);
    if (!actor) return;
    const card = tapped.card;
    const cardNo = String(card.static.cardNumber);
    const written = await ctx.write(tapped, plan.next, { ...plan.draft, cardNo, cardSeq: card.record.seq + 1, operatorId: actor.userId });
    if (written.kind === 'failed') {
      await view.notify([written.problem]);
      return;
    }
    const sent = await ctx.tell(this.centralChange(written.op, written.card));
    const r = written.card.record;
    await view.notify(
      [{ tone: 'success', key: this.doneKey, params: { cardNo, uses: written.op.uses ?? 0, remaining: r.remainingUses, date: ctx.date(r.expiry) } }, sent],
      await ctx.cardLines(written.card),
    );
  }
}

/** The expiry date field's value as the last second of that local day, or the plan's complaint. */
export function expiryFrom(ctx: ScreenContext, values: ViewResult, field: string): number | WritePlan {
  const raw = values.values[field];
  const at = typeof raw === 'string' ? ctx.endOfDay(raw.trim()) : undefined;
  if (at === undefined) return { kind: 'invalid', field, message: 'screen.expiry_invalid' };
  if (at <= ctx.nowSeconds()) return { kind: 'invalid', field, message: 'screen.expiry_past' };
  return at;
}
