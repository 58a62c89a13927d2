/**
 * Rebuild from the cards (按卡重建; issue 8, `spec/operations.md` § Rebuilding from the cards): when
 * central's and a terminal's databases were both lost, each card's static data and last record are
 * the truth. While this screen is open every tapped card is read and verified as usual (a card
 * failing its checks is listed as refused, with the reason), the terminal's card cache takes the
 * card's state, and a `rebuild` op with its provenance goes to central — in the outbox on a till
 * (sync uploads it), through the API at an HQ station. A card tapped again is counted once.
 * Progress: cards seen here / cards central knows for the scope (the cinema's, or all at HQ).
 */
import { inject, injectable } from 'tsyringe';
import type { ViewNode } from '../../adapters/host-ui.ts';
import type { Schemas } from '../../central/client/index.ts';
import type { Actor } from '../auth/permissions.ts';
import type { CardReadable } from '../card/card-outcome.ts';
import type { MessageKey } from '../i18n/catalogue.ts';
import type { PluginScreen } from './plugin-screen.ts';
import { ScreenContext } from './screen-context.ts';
import type { Notice } from './screen-view.ts';

type Progress = Schemas['RebuildProgress'];

/** One row of the list: a card seen (or refused) in this session. */
interface Seen {
  readonly cardNo: string;
  readonly remaining: number | null;
  readonly result: MessageKey;
}

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

/** The card as central's `CardRebuild` (without the op id, which is the op's own). */
export function rebuildPayload(card: CardReadable, uid: string, tappedAt: string, cashier: string | null): Omit<Schemas['CardRebuild'], 'opId'> {
  const s = card.static;
  const r = card.record;
  return {
    tappedAt,
    cashier,
    card: {
      cardNo: String(s.cardNumber), uid, cardTypeCode: s.cardType, keyVersion: s.keyVersion, blocked: s.blocked, issuedAt: iso(s.issuedAt),
      originalExpiry: iso(s.originalExpiry), initialUses: s.initialUses, chainId: s.chainId, issuingCinema: s.issuingCinema,
    },
    record: {
      seq: r.seq, remainingUses: r.remainingUses, lifetimeUsesLoaded: r.lifetimeUsesLoaded, expiresAt: iso(r.expiry), status: r.status,
      lastTxAt: iso(r.lastTxTime), lastCinema: r.lastCinema, lastTerminal: r.lastTerminal, lastAmount: r.lastAmount, lastTxKind: r.lastTxKind,
    },
  };
}

@injectable()
export class RebuildScreen implements PluginScreen {
  readonly id = 'cinecard.rebuild';
  readonly title = 'screen.rebuild.title' as const;
  readonly permission = 'cards.rebuild' as const;
  readonly group = 'admin' as const;
  /** Takes card after card: a card tapped while the progress is still loading is kept for it. */
  readonly takesTaps = true;

  constructor(@inject(ScreenContext) private readonly ctx: ScreenContext) {}

  async open(actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const view = ctx.view(this.id, this.title);
    const since = new Date(ctx.clock.now()).toISOString();
    const seen = new Map<string, Seen>();
    const refused: Seen[] = [];
    let notices: readonly Notice[] = [];
    let progress = await this.progress(since);
    // One view for the whole session, updated after each card; closing it ends the session.
    const ended = view.open(this.body(seen, refused, progress, notices));
    for (;;) {
      const tap = await ctx.tapWhile(ended);
      if (!tap) return;
      if (tap.kind === 'refused') {
        refused.unshift({ cardNo: '—', remaining: null, result: tap.problem.key });
        notices = [tap.problem];
      } else {
        const cardNo = String(tap.card.static.cardNumber);
        const before = seen.get(cardNo);
        if (before) {
          notices = [...tap.notices, { tone: 'info', key: 'screen.rebuild.again', params: { cardNo } }];
        } else if (!(await ctx.allowed(this.permission))) {
          return; // the user at the till changed meanwhile
        } else {
          const result = await this.record(tap.card, actor?.userId ?? null);
          seen.set(cardNo, { cardNo, remaining: tap.card.record.remainingUses, result: result.key });
          notices = [...tap.notices, ...result.notices];
        }
      }
      progress = await this.progress(since);
      view.update(this.body(seen, refused, progress, notices));
    }
  }

  /** The cache takes the card's state and the op is recorded, in one local transaction; central is told. */
  private async record(card: CardReadable, cashier: string | null): Promise<{ key: MessageKey; notices: Notice[] }> {
    const { ctx } = this;
    const uid = Buffer.from(card.uid).toString('hex').toUpperCase();
    const cardNo = String(card.static.cardNumber);
    const tappedAt = new Date(ctx.clock.now()).toISOString();
    const payload = rebuildPayload(card, uid, tappedAt, cashier);
    const { op, changed } = await ctx.store.write(async (trx) => {
      const changed = await ctx.cards.applyRebuild(trx, { cardNo, uid, cardTypeCode: card.static.cardType, record: card.record }, tappedAt);
      const op = await ctx.store.appendOp(trx, {
        kind: 'rebuild', cardNo, cardSeq: card.record.seq, uses: 0, remainingAfter: card.record.remainingUses,
        ...(cashier ? { operatorId: cashier } : {}), payload: { uid, ...payload },
      });
      return { op, changed };
    });
    const told = await ctx.tell({ path: '/v1/rebuild/cards', cardNo, body: { opId: op.opId, ...payload } });
    const key: MessageKey = changed ? 'screen.rebuild.result_rebuilt' : 'screen.rebuild.result_up_to_date';
    // What the card gave this till, then what became of central's copy (sent, syncing, kept offline, refused).
    return { key, notices: [{ tone: 'success', key: changed ? 'screen.rebuild.rebuilt' : 'screen.rebuild.up_to_date', params: { cardNo, uses: card.record.remainingUses } }, told] };
  }

  /** Central's count for this scope (a till's client is its cinema's), or undefined offline. */
  private async progress(since: string): Promise<Progress | undefined> {
    const a = await this.ctx.central.call((c) => c.GET('/v1/rebuild/progress', { params: { query: { since } } }));
    return a.kind === 'ok' ? a.data : undefined;
  }

  private body(seen: Map<string, Seen>, refused: readonly Seen[], progress: Progress | undefined, notices: readonly Notice[]): ViewNode[] {
    const k = this.ctx.kit;
    const count = seen.size;
    const line = progress === undefined
      ? k.text('screen.rebuild.progress_offline', { seen: count }, 'strong')
      : progress.cardsKnown === 0
        ? k.text('screen.rebuild.progress_none_known', { seen: count }, 'strong')
        : k.text('screen.rebuild.progress', { seen: count, known: progress.cardsKnown }, 'strong');
    const rows = [...[...seen.values()].reverse(), ...refused].map((s) => ({
      cardNo: s.cardNo, remaining: s.remaining, result: k.t(s.result),
    }));
    return [
      ...notices.map((n) => k.banner(n)),
      k.text('screen.rebuild.prompt'),
      line,
      ...(progress && progress.cardsNotSeen > 0 ? [k.text('screen.rebuild.not_seen', { count: progress.cardsNotSeen })] : []),
      ...(progress && progress.placeholderCardTypes.length > 0 ? [k.banner({ tone: 'warning', key: 'screen.rebuild.placeholders', params: { count: progress.placeholderCardTypes.length } })] : []),
      k.table('rebuild', [['cardNo', 'screen.card_no'], ['remaining', 'screen.rebuild.remaining'], ['result', 'screen.rebuild.result']], rows, 'screen.rebuild.empty'),
      k.close(),
    ];
  }
}
