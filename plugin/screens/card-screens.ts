/**
 * The card-writing screens (seed spec ⑹ card management): sell (activate) a made card, renew an
 * active one, re-issue a recycled one (same card number; the new holder's history starts here) —
 * and, at an HQ station, top up a card. Each is a {@link CardWriteScreen}.
 */
import { inject, injectable } from 'tsyringe';
import type { ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { CardReadable } from '../card/card-outcome.ts';
import type { Op } from '../store/terminal-store.ts';
import type { CardChange } from './central-link.ts';
import { CardWriteScreen, errorFor, expiryFrom, fieldValue, FIELD_EXPIRY, type FieldError, type WritePlan } from './card-write-screen.ts';
import { ScreenContext } from './screen-context.ts';
import { intValue, textValue, type Notice } from './screen-view.ts';

const FIELD_USES = 'uses';
/** The record's u16 counters. */
const U16 = 0xffff;

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

@injectable()
export class SellCardScreen extends CardWriteScreen {
  readonly id = 'cinecard.card.sell';
  readonly title = 'screen.sell.title' as const;
  readonly permission = 'cards.sell' as const;
  readonly group = 'card' as const;
  readonly mode = 'terminal' as const;
  protected readonly confirmKey = 'screen.sell.confirm' as const;
  protected readonly doneKey = 'screen.sell.done' as const;

  constructor(@inject(ScreenContext) ctx: ScreenContext) {
    super(ctx);
  }

  protected stateRefusal(card: CardReadable): Notice | undefined {
    return card.record.status === 'made' ? undefined : { tone: 'warning', key: 'screen.sell.not_made', params: { status: this.status(card) } };
  }

  protected async fields(card: CardReadable, entered: ViewResult | undefined, error: FieldError | undefined): Promise<ViewNode[]> {
    return [await this.expiryField(card, entered, error)];
  }

  protected async plan(card: CardReadable, values: ViewResult): Promise<WritePlan> {
    const expiry = expiryFrom(this.ctx, values, FIELD_EXPIRY);
    if (typeof expiry !== 'number') return expiry;
    return {
      kind: 'write',
      next: { ...this.base(card), status: 'active', expiry, lastTxKind: 'activate' },
      draft: { kind: 'activate', uses: 0, remainingAfter: card.record.remainingUses, payload: { expiresAt: iso(expiry) } },
    };
  }

  protected centralChange(op: Op, card: CardReadable): CardChange {
    return { path: '/v1/cards/{cardNo}/activate', cardNo: op.cardNo, body: { cinemaId: this.ctx.config.terminal.cinemaId, seq: op.cardSeq!, expiresAt: iso(card.record.expiry) } };
  }
}

@injectable()
export class RenewCardScreen extends CardWriteScreen {
  readonly id = 'cinecard.card.renew';
  readonly title = 'screen.renew.title' as const;
  readonly permission = 'cards.renew' as const;
  readonly group = 'card' as const;
  readonly mode = 'terminal' as const;
  protected readonly confirmKey = 'screen.renew.confirm' as const;
  protected readonly doneKey = 'screen.renew.done' as const;

  constructor(@inject(ScreenContext) ctx: ScreenContext) {
    super(ctx);
  }

  protected stateRefusal(card: CardReadable): Notice | undefined {
    return card.record.status === 'active' ? undefined : { tone: 'warning', key: 'screen.renew.not_active', params: { status: this.status(card) } };
  }

  protected async fields(card: CardReadable, entered: ViewResult | undefined, error: FieldError | undefined): Promise<ViewNode[]> {
    return [this.ctx.kit.text('screen.renew.current', { date: this.ctx.date(card.record.expiry) }), await this.expiryField(card, entered, error, 'screen.expiry_new')];
  }

  protected async plan(card: CardReadable, values: ViewResult): Promise<WritePlan> {
    const expiry = expiryFrom(this.ctx, values, FIELD_EXPIRY);
    if (typeof expiry !== 'number') return expiry;
    return {
      kind: 'write',
      next: { ...this.base(card), expiry, lastTxKind: 'renew' },
      draft: { kind: 'renew', uses: 0, remainingAfter: card.record.remainingUses, payload: { expiresAt: iso(expiry), previousExpiry: iso(card.record.expiry) } },
    };
  }

  protected centralChange(op: Op, card: CardReadable): CardChange {
    return { path: '/v1/cards/{cardNo}/renew', cardNo: op.cardNo, body: { seq: op.cardSeq!, expiresAt: iso(card.record.expiry) } };
  }
}

/** Loads uses onto a card: re-issue (recycled → active) and HQ top-up share the uses field. */
abstract class LoadUsesScreen extends CardWriteScreen {
  /** The card type's uses per card, else what the card was made with. */
  protected async defaultUses(card: CardReadable): Promise<number> {
    return (await this.ctx.types.byCode(card.static.cardType))?.usesPerCard ?? card.static.initialUses;
  }

  protected usesField(entered: ViewResult | undefined, error: FieldError | undefined, fallback: number): ViewNode {
    return this.ctx.kit.field(FIELD_USES, 'number', 'screen.uses_to_load', fieldValue(entered, FIELD_USES, fallback), { required: true, min: 1, max: U16, ...errorFor(error, FIELD_USES) });
  }

  /** The entered uses, or the plan's complaint when they do not fit on the card with `onCard` already there. */
  protected uses(values: ViewResult, onCard: number, lifetime: number): number | WritePlan {
    const uses = intValue(values, FIELD_USES);
    const max = Math.min(U16 - onCard, U16 - lifetime);
    if (uses === undefined || uses < 1 || uses > max) return { kind: 'invalid', field: FIELD_USES, message: 'screen.uses_invalid', params: { max } };
    return uses;
  }
}

@injectable()
export class ReissueCardScreen extends LoadUsesScreen {
  readonly id = 'cinecard.card.reissue';
  readonly title = 'screen.reissue.title' as const;
  readonly permission = 'cards.reissue' as const;
  readonly group = 'card' as const;
  readonly mode = 'terminal' as const;
  protected readonly confirmKey = 'screen.reissue.confirm' as const;
  protected readonly doneKey = 'screen.reissue.done' as const;

  constructor(@inject(ScreenContext) ctx: ScreenContext) {
    super(ctx);
  }

  /** Recycled on the card, or used up (the last redemption marks it for recycling). */
  protected stateRefusal(card: CardReadable): Notice | undefined {
    const r = card.record;
    if (r.status === 'recycled' || (r.status === 'active' && r.remainingUses === 0)) return undefined;
    return { tone: 'warning', key: 'screen.reissue.not_recycled', params: { status: this.status(card), remaining: r.remainingUses } };
  }

  protected async fields(card: CardReadable, entered: ViewResult | undefined, error: FieldError | undefined): Promise<ViewNode[]> {
    return [this.ctx.kit.text('screen.reissue.history_note', undefined, 'muted'), this.usesField(entered, error, await this.defaultUses(card)), await this.expiryField(card, entered, error)];
  }

  protected async plan(card: CardReadable, values: ViewResult): Promise<WritePlan> {
    const uses = this.uses(values, 0, card.record.lifetimeUsesLoaded);
    if (typeof uses !== 'number') return uses;
    const expiry = expiryFrom(this.ctx, values, FIELD_EXPIRY);
    if (typeof expiry !== 'number') return expiry;
    return {
      kind: 'write',
      next: {
        ...this.base(card), status: 'active', remainingUses: uses, lifetimeUsesLoaded: card.record.lifetimeUsesLoaded + uses, expiry,
        lastTxKind: 'issue', lastAmount: -uses,
      },
      draft: { kind: 'reissue', uses, remainingAfter: uses, payload: { expiresAt: iso(expiry), previousRemaining: card.record.remainingUses } },
    };
  }

  protected centralChange(op: Op, card: CardReadable): CardChange {
    return {
      path: '/v1/cards/{cardNo}/reissue', cardNo: op.cardNo,
      body: { cinemaId: this.ctx.config.terminal.cinemaId, seq: op.cardSeq!, uses: op.uses!, expiresAt: iso(card.record.expiry) },
    };
  }
}

@injectable()
export class TopUpCardScreen extends LoadUsesScreen {
  readonly id = 'cinecard.hq.top_up';
  readonly title = 'screen.top_up.title' as const;
  readonly permission = 'cards.top_up' as const;
  readonly group = 'hq' as const;
  readonly mode = 'hq_station' as const;
  protected readonly confirmKey = 'screen.top_up.confirm' as const;
  protected readonly doneKey = 'screen.top_up.done' as const;

  constructor(@inject(ScreenContext) ctx: ScreenContext) {
    super(ctx);
  }

  protected stateRefusal(card: CardReadable): Notice | undefined {
    return card.record.status === 'cancelled' ? { tone: 'warning', key: 'card.cancelled' } : undefined;
  }

  protected async fields(card: CardReadable, entered: ViewResult | undefined, error: FieldError | undefined): Promise<ViewNode[]> {
    return [this.usesField(entered, error, await this.defaultUses(card))];
  }

  protected async plan(card: CardReadable, values: ViewResult): Promise<WritePlan> {
    const uses = this.uses(values, card.record.remainingUses, card.record.lifetimeUsesLoaded);
    if (typeof uses !== 'number') return uses;
    const remaining = card.record.remainingUses + uses;
    return {
      kind: 'write',
      next: { ...this.base(card), remainingUses: remaining, lifetimeUsesLoaded: card.record.lifetimeUsesLoaded + uses, lastTxKind: 'top_up', lastAmount: -uses },
      draft: { kind: 'top_up', uses, remainingAfter: remaining, payload: { note: textValue(values, 'note') || null } },
    };
  }

  protected centralChange(op: Op): CardChange {
    return {
      path: '/v1/cards/{cardNo}/top-ups', cardNo: op.cardNo,
      body: { opId: op.opId, seq: op.cardSeq!, uses: op.uses!, remainingAfter: op.remainingAfter!, occurredAt: op.deviceTime },
    };
  }
}
