/**
 * The management screens that keep lists rather than write cards: the blacklist (manager), the
 * cards to recycle today, and a card's history since its latest issue (central when online, this
 * terminal's own ops otherwise — labelled so).
 */
import { inject, injectable } from 'tsyringe';
import type { ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { Schemas } from '../../central/client/index.ts';
import type { Actor } from '../auth/permissions.ts';
import type { MessageKey } from '../i18n/catalogue.ts';
import type { Op } from '../store/terminal-store.ts';
import type { PluginScreen } from './plugin-screen.ts';
import { ReissueCardScreen } from './card-screens.ts';
import { ScreenContext } from './screen-context.ts';
import { ListEditorScreen } from './list-editor-screen.ts';
import { ACTION_CANCEL, ACTION_CLOSE, textValue, type Notice } from './screen-view.ts';

const CARD_NO = /^[0-9]{4,20}$/;
const FIELD_CARD_NO = 'cardNo';
const FIELD_REASON = 'reason';

/** An ISO instant as the cinema's local date and time. */
export function localTime(ctx: ScreenContext, isoTime: string): string {
  const s = Date.parse(isoTime) / 1000;
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone: ctx.config.timeZone, hour: '2-digit', minute: '2-digit' }).format(new Date(s * 1000));
  return `${ctx.date(s)} ${hm}`;
}

@injectable()
export class BlacklistScreen extends ListEditorScreen {
  readonly id = 'cinecard.blacklist';
  readonly title = 'screen.blacklist.title' as const;
  readonly permission = 'blacklist.manage' as const;
  readonly group = 'card' as const;
  protected readonly actions = [{ id: 'add', label: 'screen.blacklist.add', variant: 'danger' }, { id: 'remove', label: 'screen.blacklist.remove' }] as const;

  constructor(@inject(ScreenContext) ctx: ScreenContext) {
    super(ctx);
  }

  protected async body(): Promise<ViewNode[]> {
    const { ctx } = this;
    const k = ctx.kit;
    const list = await ctx.cards.blacklistEntries();
    return [
      k.field(FIELD_CARD_NO, 'text', 'screen.card_no', '', { required: true }),
      k.field(FIELD_REASON, 'text', 'screen.blacklist.reason', ''),
      k.table('blacklist', [['cardNo', 'screen.card_no'], ['reason', 'screen.blacklist.reason'], ['listedAt', 'screen.blacklist.listed_at']],
        list.map((e) => ({ cardNo: e.cardNo, reason: e.reason, listedAt: localTime(ctx, e.listedAt) })), 'screen.blacklist.empty'),
    ];
  }

  protected act(action: string, r: ViewResult): Promise<Notice> {
    return this.change(action === 'add' ? 'add' : 'remove', textValue(r, FIELD_CARD_NO), textValue(r, FIELD_REASON));
  }

  /** Lists or unlists a card: locally at once (the next tap is refused), then central. */
  private async change(action: 'add' | 'remove', cardNo: string, reason: string): Promise<Notice> {
    const { ctx } = this;
    if (!CARD_NO.test(cardNo)) return { tone: 'warning', key: 'screen.card_no_invalid' };
    const listed = await ctx.cards.isBlacklisted(cardNo);
    if (action === 'add' && !reason) return { tone: 'warning', key: 'screen.blacklist.reason_required' };
    if (action === 'add' && listed) return { tone: 'info', key: 'screen.blacklist.already', params: { cardNo } };
    if (action === 'remove' && !listed) return { tone: 'info', key: 'screen.blacklist.not_listed', params: { cardNo } };
    const actor = ctx.users.current!; // checked by ListEditorScreen just now
    const why = reason || ctx.kit.t('screen.blacklist.removed_reason');
    await ctx.store.write(async (trx) => {
      if (action === 'add') await ctx.cards.blacklist(cardNo, why, new Date(ctx.clock.now()).toISOString(), trx);
      else await ctx.cards.unblacklist(cardNo, trx);
      return ctx.store.appendOp(trx, { kind: action === 'add' ? 'blacklist' : 'unblacklist', cardNo, operatorId: actor.userId, payload: { reason: why } });
    });
    const sent = await ctx.tell({ path: action === 'add' ? '/v1/cards/{cardNo}/blacklist' : '/v1/cards/{cardNo}/unblacklist', cardNo, body: { reason: why } });
    return { tone: 'success', key: action === 'add' ? 'screen.blacklist.added' : 'screen.blacklist.removed', params: { cardNo, central: ctx.kit.t(sent.key, sent.params) } };
  }
}

@injectable()
export class RecycleListScreen implements PluginScreen {
  readonly id = 'cinecard.card.recycle_list';
  readonly title = 'screen.recycle.title' as const;
  readonly permission = 'cards.reissue' as const;
  readonly group = 'card' as const;
  readonly mode = 'terminal' as const;

  constructor(
    @inject(ScreenContext) private readonly ctx: ScreenContext,
    @inject(ReissueCardScreen) private readonly reissue: ReissueCardScreen,
  ) {}

  async open(actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const k = ctx.kit;
    const since = ctx.startOfToday();
    const reason = (r: 'exhausted' | 'returned' | null) => k.t(`screen.recycle.reason.${r ?? 'exhausted'}`);
    // Central knows the cards collected at every till of this cinema; this till only its own.
    const answer = await ctx.central.call((c) => c.GET('/v1/cards', { params: { query: { state: 'recycled', cinemaId: ctx.config.terminal.cinemaId, recycledSince: since, limit: 500 } } }));
    const rows = answer.kind === 'ok'
      ? answer.data.items.map((c) => ({ cardNo: c.cardNo, reason: reason(c.recycledReason), at: c.recycledAt && localTime(ctx, c.recycledAt) }))
      : (await ctx.cards.awaitingRecycling(since)).map((c) => ({ cardNo: c.cardNo, reason: reason(c.recycledReason), at: c.recycledAt && localTime(ctx, c.recycledAt) }));
    const r = await ctx.view(this.id, this.title).open([
      k.text('screen.recycle.today', { date: ctx.date(ctx.nowSeconds()), count: rows.length }, 'strong'),
      k.banner({ tone: answer.kind === 'ok' ? 'info' : 'warning', key: answer.kind === 'ok' ? 'screen.recycle.from_central' : 'screen.recycle.local_note' }),
      k.table('recycle', [['cardNo', 'screen.card_no'], ['reason', 'screen.recycle.reason'], ['at', 'screen.recycle.at']], rows, 'screen.recycle.empty'),
      { type: 'stack', direction: 'horizontal', children: [k.button('reissue', 'screen.reissue.title', 'primary'), k.button(ACTION_CLOSE, 'screen.close')] },
    ]);
    if (r?.action === 'reissue' && (await ctx.allowed(this.reissue.permission))) await this.reissue.open(actor);
  }
}

const LEDGER_KINDS: Record<string, MessageKey> = {
  redeem: 'screen.history.kind.redeem', topup: 'screen.history.kind.top_up', top_up: 'screen.history.kind.top_up', activate: 'screen.history.kind.activate',
  renew: 'screen.history.kind.renew', recycle: 'screen.history.kind.recycle', reissue: 'screen.history.kind.reissue',
  blacklist: 'screen.history.kind.blacklist', unblacklist: 'screen.history.kind.unblacklist', rebuild: 'screen.history.kind.rebuild',
};

/** The ops of the current holder: from the latest sale or re-issue on (seed spec ⑹). */
export function sinceLatestIssue(ops: readonly Op[]): Op[] {
  const start = ops.map((o) => o.kind).lastIndexOf('reissue');
  const from = start >= 0 ? start : Math.max(0, ops.map((o) => o.kind).lastIndexOf('activate'));
  return ops.slice(from);
}

@injectable()
export class CardHistoryScreen implements PluginScreen {
  readonly id = 'cinecard.card.history';
  readonly title = 'screen.history.title' as const;
  readonly permission = 'cards.history' as const;
  readonly takesTaps = true;
  readonly group = 'card' as const;
  readonly mode = 'terminal' as const;

  constructor(@inject(ScreenContext) private readonly ctx: ScreenContext) {}

  async open(_actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const k = ctx.kit;
    const view = ctx.view(this.id, this.title);
    const tap = await ctx.tapUsable(view, [k.text('screen.history.tap', undefined, 'strong'), k.button(ACTION_CANCEL, 'screen.cancel')]);
    if (!tap) return;
    const cardNo = String(tap.card.static.cardNumber);
    const answer = await ctx.central.call((c) => c.GET('/v1/cards/{cardNo}/history', { params: { path: { cardNo }, query: { scope: 'current' } } }));
    let source: ViewNode[];
    let rows: Record<string, string | number | null>[];
    if (answer.kind === 'ok') {
      source = [k.banner({ tone: 'info', key: 'screen.history.from_central' })];
      rows = answer.data.items.map((e: Schemas['LedgerEntry']) => ({
        at: localTime(ctx, e.occurredAt), place: e.cinemaId === ctx.config.terminal.cinemaId ? k.t('screen.history.this_cinema') : (e.cinemaId ?? '—'),
        kind: k.t(LEDGER_KINDS[e.kind] ?? 'screen.history.kind.redeem'), consumption: e.consumptionType ? k.t(`redeem.consumption.${e.consumptionType}`) : '',
        uses: Math.abs(e.usesDelta), remaining: e.remainingAfter,
      }));
    } else {
      source = [
        k.banner({ tone: 'warning', key: 'screen.history.from_local' }),
        ...(answer.kind === 'refused' ? [k.banner({ tone: 'warning', key: 'screen.central_refused', params: { message: answer.error.message } })] : []),
      ];
      rows = sinceLatestIssue(await ctx.store.opsOfCard(cardNo)).map((o) => ({
        at: localTime(ctx, o.deviceTime), place: k.t('screen.history.this_cinema'), kind: k.t(LEDGER_KINDS[o.kind] ?? 'screen.history.kind.redeem'),
        consumption: o.consumption ? k.t(`redeem.consumption.${o.consumption}`) : '', uses: o.uses ?? 0, remaining: o.remainingAfter ?? null,
      }));
    }
    view.update([
      ...tap.notices.map((n) => k.banner(n)),
      ...source,
      ...(await ctx.cardLines(tap.card)),
      k.table('history', [['at', 'screen.history.at'], ['place', 'screen.history.place'], ['kind', 'screen.history.kind'], ['consumption', 'redeem.consumption'],
        ['uses', 'screen.history.uses'], ['remaining', 'screen.history.remaining']], rows, 'screen.history.empty'),
      k.close(),
    ]);
    await tap.ended;
  }
}
