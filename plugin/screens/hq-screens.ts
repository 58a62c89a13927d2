/**
 * The HQ station (plugin mode `hq_station`, operator): make cards in batches — each blank card
 * tapped is personalised with the chosen type, uses and expiry, and the batch is registered at
 * central — and change the type of a recycled card. (Top-up is a card write: `card-screens.ts`.)
 */
import { inject, injectable } from 'tsyringe';
import type { ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { Schemas } from '../../central/client/index.ts';
import type { Actor } from '../auth/permissions.ts';
import type { CardRecordInput, CardStaticInput } from '../card/card-data.ts';
import { isCardError } from '../card/card-outcome.ts';
import { uidHex } from '../card/card-write-journal.ts';
import type { CardTypeTerms } from '../store/card-type-terms.ts';
import type { PluginScreen } from './plugin-screen.ts';
import { ScreenContext } from './screen-context.ts';
import { ACTION_CANCEL, ACTION_CONFIRM, intValue, textValue, type Notice } from './screen-view.ts';

type BatchBody = Schemas['CardBatchCreate'];
/** Batches made while central could not be reached, registered the next time the screen opens. */
const UNREGISTERED = 'hq.unregistered_batches';
const CARD_NO = /^[0-9]{4,20}$/;

/** The card types: central's (kept locally, each with the u8 code written on its cards), else the local copy. */
async function cardTypes(ctx: ScreenContext): Promise<{ types: CardTypeTerms[]; online: boolean }> {
  const answer = await ctx.central.call((c) => c.GET('/v1/card-types'));
  if (answer.kind === 'ok') {
    for (const t of answer.data.items) {
      const kept = await ctx.types.put({ cardTypeId: t.id, name: t.name, pricePerUseFen: t.settlementPricePerUseFen, usesPerCard: t.usesPerCard, validityDays: t.validityDays });
      await ctx.cards.putCardType(kept); // refreshes the popup's in-memory copy of the type
    }
  }
  return { types: await ctx.types.all(), online: answer.kind === 'ok' };
}

const typeOptions = (types: readonly CardTypeTerms[]) => types.map((t) => ({ value: t.cardTypeId, label: t.name }));

@injectable()
export class MakeCardsScreen implements PluginScreen {
  readonly id = 'cinecard.hq.make';
  readonly title = 'screen.make.title' as const;
  readonly permission = 'cards.make' as const;
  readonly takesTaps = true;
  readonly group = 'hq' as const;
  readonly mode = 'hq_station' as const;

  constructor(@inject(ScreenContext) private readonly ctx: ScreenContext) {}

  async open(_actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const k = ctx.kit;
    const view = ctx.view(this.id, this.title);
    const notices: Notice[] = [...(await this.registerLeftovers())];
    const { types, online } = await cardTypes(ctx);
    if (!online) notices.push({ tone: 'warning', key: 'screen.make.offline' });
    if (types.length === 0) {
      await view.notify([...notices, { tone: 'critical', key: 'screen.make.no_types' }]);
      return;
    }
    let entered: ViewResult | undefined;
    let problem: Notice | undefined;
    for (;;) {
      const value = (id: string, fallback: string | number) => entered?.values[id] ?? fallback;
      const type = types.find((t) => t.cardTypeId === value('type', types[0]!.cardTypeId)) ?? types[0]!;
      const r = await view.open([
        ...notices.map((n) => k.banner(n)),
        ...(problem ? [k.banner(problem)] : []),
        k.select('type', 'screen.make.type', type.cardTypeId, typeOptions(types)),
        k.field('uses', 'number', 'screen.uses_to_load', value('uses', type.usesPerCard ?? 10), { required: true, min: 1, max: 0xffff }),
        k.field('expiry', 'date', 'screen.expiry', value('expiry', ctx.defaultExpiryDate(type)), { required: true }),
        k.field('count', 'number', 'screen.make.count', value('count', 10), { required: true, min: 1, max: 1000 }),
        k.field('first', 'text', 'screen.make.first_no', value('first', ''), { required: true }),
        k.confirmCancel('screen.make.start'),
      ]);
      if (r?.action !== ACTION_CONFIRM) return;
      entered = r;
      const chosen = types.find((t) => t.cardTypeId === textValue(r, 'type'));
      const uses = intValue(r, 'uses'), count = intValue(r, 'count'), first = textValue(r, 'first');
      const expiry = ctx.endOfDay(textValue(r, 'expiry'));
      problem =
        !chosen ? { tone: 'warning', key: 'screen.make.type_required' }
        : uses === undefined || uses < 1 || uses > 0xffff ? { tone: 'warning', key: 'screen.uses_invalid', params: { max: 0xffff } }
        : expiry === undefined || expiry <= ctx.nowSeconds() ? { tone: 'warning', key: 'screen.expiry_invalid' }
        : count === undefined || count < 1 || count > 1000 ? { tone: 'warning', key: 'screen.make.count_invalid' }
        : !CARD_NO.test(first) || BigInt(first) + BigInt(count) > 2n ** 64n ? { tone: 'warning', key: 'screen.card_no_invalid' }
        : undefined;
      if (problem) continue;
      if (!(await ctx.allowed(this.permission))) return;
      await this.make(chosen!, uses!, expiry!, count!, BigInt(first));
      return;
    }
  }

  /** Personalises `count` blank cards one tap after another, then registers them as one batch. */
  private async make(type: CardTypeTerms, uses: number, expiry: number, count: number, first: bigint): Promise<void> {
    const { ctx } = this;
    const k = ctx.kit;
    const view = ctx.view(this.id, this.title);
    const made: BatchBody['cards'] = [];
    const width = String(first).length;
    const numberAt = (i: number) => String(first + BigInt(i)).padStart(width, '0');
    const progress = (problem?: Notice): ViewNode[] => [
      ...(problem ? [k.banner(problem)] : []),
      k.text('screen.make.tap_blank', { n: made.length + 1, count, cardNo: numberAt(made.length) }, 'strong'),
      { type: 'progress', value: made.length, max: count, label: k.t('screen.make.progress', { done: made.length, count }) },
      k.button('stop', 'screen.make.stop', 'danger'),
    ];
    const ended = view.open(progress());
    const t = ctx.config.terminal;
    while (made.length < count) {
      const session = await ctx.nextCard(ended);
      if (!session) break;
      const cardNo = numberAt(made.length);
      const data: CardStaticInput = {
        cardType: type.code, blocked: false, cardNumber: BigInt(cardNo), issuedAt: ctx.nowSeconds(), originalExpiry: expiry, initialUses: uses,
        chainId: t.chainId, issuingCinema: t.cinemaCode,
      };
      const record: CardRecordInput = {
        remainingUses: uses, lifetimeUsesLoaded: uses, expiry, status: 'made', lastTxTime: ctx.nowSeconds(), lastCinema: t.cinemaCode, lastTerminal: t.terminalNumber,
        lastAmount: -uses, lastTxKind: 'issue',
      };
      try {
        const done = await ctx.profile.personalise(session, data, record);
        made.push({ cardNo, uid: uidHex(done.card.uid) });
        view.update(progress(made.length < count ? { tone: 'success', key: 'screen.make.card_done', params: { cardNo } } : undefined));
      } catch (e) {
        ctx.logger.warn({ err: String(e), cardNo }, 'personalising a card failed');
        const key = isCardError(e, 'already_personalised') ? 'screen.make.not_blank' : isCardError(e, 'card_removed') ? 'reader.card_removed' : 'screen.make.card_failed';
        view.update(progress({ tone: 'warning', key }));
      }
    }
    view.close();
    if (made.length === 0) return;
    const body: BatchBody = { cardTypeId: type.cardTypeId, uses, expiresAt: new Date(expiry * 1000).toISOString(), cards: made };
    const registered = await this.register(body);
    await view.notify([{ tone: 'success', key: 'screen.make.done', params: { count: made.length, first: made[0]!.cardNo, last: made.at(-1)!.cardNo } }, registered]);
  }

  private async register(body: BatchBody): Promise<Notice> {
    const answer = await this.ctx.central.call((c) => c.POST('/v1/card-batches', { body }));
    if (answer.kind === 'ok') return { tone: 'success', key: 'screen.make.registered', params: { count: answer.data.count } };
    if (answer.kind === 'refused') return { tone: 'critical', key: 'screen.make.register_refused', params: { message: answer.error.message } };
    const left = JSON.parse((await this.ctx.store.getMeta(UNREGISTERED)) ?? '[]') as BatchBody[];
    await this.ctx.store.setMeta(UNREGISTERED, JSON.stringify([...left, body]));
    return { tone: 'warning', key: 'screen.make.register_later' };
  }

  /** Registers batches made while offline, now that central may answer. */
  private async registerLeftovers(): Promise<Notice[]> {
    const left = JSON.parse((await this.ctx.store.getMeta(UNREGISTERED)) ?? '[]') as BatchBody[];
    if (left.length === 0 || !this.ctx.central.connected) return [];
    const still: BatchBody[] = [];
    const notices: Notice[] = [];
    for (const body of left) {
      const answer = await this.ctx.central.call((c) => c.POST('/v1/card-batches', { body }));
      if (answer.kind === 'ok') notices.push({ tone: 'success', key: 'screen.make.registered', params: { count: answer.data.count } });
      else if (answer.kind === 'refused') notices.push({ tone: 'critical', key: 'screen.make.register_refused', params: { message: answer.error.message } });
      else still.push(body);
    }
    await this.ctx.store.setMeta(UNREGISTERED, JSON.stringify(still));
    return notices;
  }
}

@injectable()
export class ChangeCardTypeScreen implements PluginScreen {
  readonly id = 'cinecard.hq.change_type';
  readonly title = 'screen.change_type.title' as const;
  readonly permission = 'cards.change_type' as const;
  readonly takesTaps = true;
  readonly group = 'hq' as const;
  readonly mode = 'hq_station' as const;

  constructor(@inject(ScreenContext) private readonly ctx: ScreenContext) {}

  async open(_actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const k = ctx.kit;
    const view = ctx.view(this.id, this.title);
    const tap = await ctx.tapUsable(view, [k.text('screen.tap_card', undefined, 'strong'), k.button(ACTION_CANCEL, 'screen.cancel')]);
    if (!tap) return;
    const card = tap.card;
    const lines = await ctx.cardLines(card);
    const { types, online } = await cardTypes(ctx);
    const refusal: Notice | undefined =
      card.record.status !== 'recycled' && !(card.record.status === 'active' && card.record.remainingUses === 0)
        ? { tone: 'warning', key: 'screen.change_type.not_recycled' }
        : !online ? { tone: 'critical', key: 'screen.change_type.needs_central' } : undefined;
    if (refusal) {
      view.update([k.banner(refusal), ...lines, k.close()]);
      await tap.ended;
      return;
    }
    const current = types.find((t) => t.code === card.static.cardType);
    view.update([...lines, k.select('type', 'screen.make.type', current?.cardTypeId ?? types[0]!.cardTypeId, typeOptions(types)), k.confirmCancel('screen.change_type.confirm')]);
    const r = await tap.ended;
    if (r?.action !== ACTION_CONFIRM || !(await ctx.allowed(this.permission))) return;
    const cardNo = String(card.static.cardNumber);
    const chosen = types.find((t) => t.cardTypeId === textValue(r, 'type'));
    if (!chosen) return;
    const answer = await ctx.central.call((c) => c.POST('/v1/cards/{cardNo}/change-type', { params: { path: { cardNo } }, body: { cardTypeId: chosen.cardTypeId } }));
    await view.notify([
      answer.kind === 'ok' ? { tone: 'success', key: 'screen.change_type.done', params: { cardNo, type: chosen.name } }
      : answer.kind === 'offline' ? { tone: 'critical', key: 'screen.change_type.needs_central' }
      : { tone: 'critical', key: 'screen.central_refused', params: { message: answer.error.message } },
    ]);
  }
}
