/**
 * The cashier's redemption (DESIGN §1, seed spec ⑹): a card comes to the reader → read and verify →
 * an unfinished write of this card is resolved first (never a double deduction) → local checks →
 * the popup with card number, type, remaining uses, expiry, status and the deduction pre-filled from
 * the sale through the cinema's rules → confirm → the card is written (anti-tearing, journal) and the
 * op recorded in the same local transaction as the journal completion → the popup shows the new
 * balance → the card is applied as a tender → the popup closes when the card is taken away. Cancel:
 * no popup again for this presence. No network on this path.
 */
import { inject, injectable } from 'tsyringe';
import { CardReader, type CardSession } from '../../adapters/card-reader.ts';
import { Clock } from '../../adapters/clock.ts';
import { HostSale } from '../../adapters/host-sale.ts';
import { HostUi, type ViewResult } from '../../adapters/host-ui.ts';
import { DisposableStore, type Disposable } from '../../adapters/lifecycle.ts';
import { Logger } from '../../adapters/logger.ts';
import { can } from '../auth/permissions.ts';
import type { UserSession } from '../auth/user-session.ts';
import type { CardRecordInput } from '../card/card-data.ts';
import { isCardError, isReadable, type CardReadable, type CardReadOutcome } from '../card/card-outcome.ts';
import type { CardProfile } from '../card/card-profile.ts';
import { resolvePending, type PendingCardWrite } from '../card/card-write-journal.ts';
import type { PluginConfig } from '../config.ts';
import type { Translator } from '../i18n/translator.ts';
import type { CardCache } from '../store/card-cache.ts';
import type { TerminalCardJournal } from '../store/card-journal.ts';
import type { RedemptionRuleStore } from '../store/redemption-rule-store.ts';
import type { Op } from '../store/terminal-store.ts';
import {
  CardCacheToken, CardJournalToken, CardProfileToken, PluginConfigToken, RuleStoreToken, TranslatorToken, UserSessionToken,
} from '../tokens.ts';
import { checkCard, problemMessage } from './card-check.ts';
import {
  ACTION_CONFIRM, FIELD_CONSUMPTION, FIELD_USES, offerView, refusalView, resultView, writingView, type CardFacts, type Notice,
} from './redemption-popup.ts';
import { ReaderClaim } from './reader-claim.ts';
import { defaultConsumption, proposeDeductions, tenderAmount, type Consumption, type RedemptionRule } from './redemption-rules.ts';

/** What a redemption op carries beyond the common op fields (payload). */
interface RedeemPayload {
  readonly saleId: string | null;
  readonly lineIds: readonly string[];
  readonly amountFen: number;
  readonly uid: string;
  readonly previousSeq: number;
  /** Set when this redemption took the last use: the card goes on the recycling list. */
  readonly recycle?: 'exhausted';
}

/** One card presence and its popup. */
interface Presence {
  readonly session: CardSession;
  readonly viewId: string;
  /** Whether the popup is showing. */
  shown: boolean;
  /** A confirm is being processed: presses are ignored and removal waits for it. */
  busy: boolean;
  /** The popup must stay after the card leaves: the cashier has to re-tap (unconfirmed write). */
  keepAfterRemoval: boolean;
  removed: boolean;
  /** Set while the popup offers a deduction: what to re-offer when the sale changes. */
  offer?: { readonly card: CardReadable; readonly notices: readonly Notice[] };
}

const isoDate = (tz: string) => {
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (unixSeconds: number) => fmt.format(new Date(unixSeconds * 1000));
};

@injectable()
export class RedemptionFlow implements Disposable {
  private readonly subscriptions = new DisposableStore();
  private readonly presences = new Map<string, Presence>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly date: (unixSeconds: number) => string;
  private disposed = false;

  constructor(
    @inject(CardReader) private readonly reader: CardReader,
    @inject(HostUi) private readonly ui: HostUi,
    @inject(HostSale) private readonly sale: HostSale,
    @inject(Clock) private readonly clock: Clock,
    @inject(Logger) logger: Logger,
    @inject(CardProfileToken) private readonly profile: CardProfile,
    @inject(CardJournalToken) private readonly journal: TerminalCardJournal,
    @inject(CardCacheToken) private readonly cards: CardCache,
    @inject(RuleStoreToken) private readonly rules: RedemptionRuleStore,
    @inject(UserSessionToken) private readonly users: UserSession,
    @inject(TranslatorToken) private readonly i18n: Translator,
    @inject(PluginConfigToken) private readonly config: PluginConfig,
    @inject(ReaderClaim) private readonly claim: ReaderClaim,
  ) {
    this.log = logger.child({ component: 'redemption' });
    this.date = isoDate(config.timeZone);
  }

  /** Starts listening for cards. */
  start(): void {
    this.subscriptions.add(this.reader.onCardPresent((s) => this.track(this.onPresent(s))));
    this.subscriptions.add(this.reader.onCardRemoved((e) => this.onRemoved(e.sessionId)));
    // The basket changed under an open offer: pre-fill again from the new sale.
    this.subscriptions.add(this.sale.onSaleChanged(() => {
      for (const p of this.presences.values()) {
        if (p.offer && p.shown && !p.busy) this.track(this.offer(p, p.offer.card, [...p.offer.notices]));
      }
    }));
  }

  /** Resolves when every tap being handled now has finished (tests, dispose). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    const done = p.catch((e) => this.log.error({ err: String(e) }, 'redemption tap failed')).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async onPresent(session: CardSession): Promise<void> {
    if (this.disposed) return;
    if (this.claim.offer(session)) return; // a management screen has the reader
    // A new card on this reader replaces whatever popup an earlier card left open.
    for (const p of this.presences.values()) if (p.session.reader === session.reader) this.closePopup(p);
    const presence: Presence = { session, viewId: `cinecard.redeem.${session.id}`, shown: false, busy: false, keepAfterRemoval: false, removed: false };
    this.presences.set(session.id, presence);

    const outcome = await this.profile.read(session);
    if (this.disposed) return;
    const notices: Notice[] = [];
    if (isReadable(outcome)) {
      const stop = await this.resolveEarlierWrite(presence, outcome, notices);
      if (stop) return;
    }
    await this.offer(presence, outcome, notices);
  }

  /**
   * A write of this card that an earlier tap (or an earlier process) began and never confirmed is
   * settled from what the card holds: landed → its op is recorded now, exactly once; not landed →
   * dropped, nothing was deducted. Returns true when the popup must stop here.
   */
  private async resolveEarlierWrite(presence: Presence, card: CardReadable, notices: Notice[]): Promise<boolean> {
    const pending = await this.journal.pendingFor(card.static.cardNumber);
    if (!pending) return false;
    const resolution = resolvePending(card, pending);
    this.log.info({ cardNo: String(pending.cardNumber), seq: pending.expectedSeq, resolution }, 'resolving an unfinished card write');
    switch (resolution) {
      case 'landed': {
        const op = await this.journal.complete(pending);
        notices.push({ tone: 'success', key: 'redeem.recovered_landed', params: { uses: op.uses ?? 0 } });
        notices.push(await this.tenderNotice(op));
        return false;
      }
      case 'not_landed':
      case 'superseded':
        await this.journal.abandon(pending);
        notices.push({ tone: 'info', key: 'redeem.recovered_not_landed' });
        return false;
      case 'undetermined':
        await this.journal.abandon(pending);
        notices.push({ tone: 'warning', key: 'redeem.recovered_undetermined' });
        return false;
      case 'other_card':
      case 'unreadable':
        this.show(presence, refusalView(presence.viewId, this.i18n, { tone: 'critical', key: 'redeem.pending_other_card' }, undefined));
        return true;
    }
  }

  private async facts(card: CardReadable): Promise<CardFacts> {
    return { card, typeName: (await this.cards.cardType(card.static.cardType))?.name, date: this.date };
  }

  /** Checks the card and shows the popup: the offer, or why nothing can be done. */
  private async offer(presence: Presence, outcome: CardReadOutcome, notices: Notice[], usesError?: { uses: number | string | null; consumption: Consumption; message: string }): Promise<void> {
    // A card tapped right after a sign-in waits for the cashier to be matched (bounded), not refused.
    const user = this.users.settled();
    const cardNo = isReadable(outcome) ? String(outcome.static.cardNumber) : undefined;
    const verdict = checkCard(outcome, isReadable(outcome) ? {
      nowSeconds: Math.floor(this.clock.now() / 1000),
      chainId: this.config.terminal.chainId,
      blacklisted: await this.cards.isBlacklisted(cardNo!),
    } : undefined);
    if (verdict.kind === 'gone' || this.disposed || presence.removed) return;
    if (verdict.kind === 'refused') {
      const facts = verdict.card && (await this.facts(verdict.card));
      const params = verdict.problem === 'expired' && facts ? { date: this.date(facts.card.record.expiry) } : undefined;
      this.show(presence, refusalView(presence.viewId, this.i18n, { tone: 'critical', key: problemMessage(verdict.problem), ...(params && { params }) }, facts, notices));
      return;
    }
    const card = verdict.card;
    presence.offer = { card, notices: [...notices] };
    if (verdict.torn) notices.push({ tone: 'info', key: 'card.torn' });
    const cardType = await this.cards.cardType(card.static.cardType);
    const facts: CardFacts = { card, typeName: cardType?.name, date: this.date };
    const rules = await this.rules.rules(this.config.terminal.cinemaId);
    const sale = this.sale.current();
    const deductions = proposeDeductions(sale, rules, cardType?.cardTypeId ?? null);
    const actor = await user;
    if (this.disposed || presence.removed) return;
    const allowed = can(actor, 'cards.redeem');
    const maxUses = Math.min(card.record.remainingUses, this.config.maxUsesPerRedemption);
    const view = offerView(presence.viewId, this.i18n, {
      facts, deductions, consumption: defaultConsumption(sale), maxUses, allowed, hasSale: sale !== undefined, notices,
      ...(!actor && { refusal: 'redeem.no_user' as const }),
      ...(usesError && { entered: { uses: usesError.uses, consumption: usesError.consumption }, usesError: usesError.message }),
    });
    this.show(presence, view, (result) => {
      if (result.action !== ACTION_CONFIRM || presence.busy || !allowed) return;
      presence.busy = true;
      this.track(this.confirm(presence, card, rules, cardType?.cardTypeId ?? null, result).finally(() => {
        presence.busy = false;
        if (presence.removed && !presence.keepAfterRemoval) this.closePopup(presence);
      }));
    });
  }

  private async confirm(presence: Presence, card: CardReadable, rules: readonly RedemptionRule[], cardTypeId: string | null, result: ViewResult): Promise<void> {
    const consumption: Consumption = result.values[FIELD_CONSUMPTION] === 'concession' ? 'concession' : 'ticket';
    const max = Math.min(card.record.remainingUses, this.config.maxUsesPerRedemption);
    const raw = result.values[FIELD_USES];
    const uses = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isInteger(uses) || uses < 1 || uses > max) {
      await this.offer(presence, card, [], { uses: raw ?? null, consumption, message: this.i18n.t('redeem.uses_invalid', { max }) });
      return;
    }
    const actor = await this.users.settled();
    if (!can(actor, 'cards.redeem')) return; // logged out since the popup opened
    presence.offer = undefined;
    const sale = this.sale.current();
    const deduction = proposeDeductions(sale, rules, cardTypeId)[consumption];
    const facts = await this.facts(card);
    this.ui.update(writingView(presence.viewId, this.i18n, facts));

    const r = card.record;
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    const next: CardRecordInput = {
      remainingUses: r.remainingUses - uses, lifetimeUsesLoaded: r.lifetimeUsesLoaded, expiry: r.expiry, status: 'active',
      lastTxTime: nowSeconds, lastCinema: this.config.terminal.cinemaCode, lastTerminal: this.config.terminal.terminalNumber,
      lastAmount: uses, lastTxKind: 'redeem',
    };
    const payload: RedeemPayload = {
      saleId: sale?.saleId ?? null,
      lineIds: sale ? deduction.lineIds : [],
      amountFen: sale ? tenderAmount(deduction, uses, rules, cardTypeId) : 0,
      uid: Buffer.from(card.uid).toString('hex').toUpperCase(),
      previousSeq: r.seq,
      ...(next.remainingUses === 0 && { recycle: 'exhausted' as const }),
    };
    const journal = this.journal.forOp({
      draft: {
        kind: 'redeem', cardNo: String(card.static.cardNumber), cardSeq: r.seq + 1, operatorId: actor!.userId, consumption, uses,
        remainingAfter: next.remainingUses, payload: { ...payload },
      },
      cardTypeCode: card.static.cardType,
    });
    try {
      const written = await this.profile.writeRecord(presence.session, card, next, journal);
      await this.finish(presence, written.card, journal.committed!, []);
    } catch (e) {
      await this.afterFailedWrite(presence, card, e);
    }
  }

  /** The op is recorded: show the new balance, and apply the tender. */
  private async finish(presence: Presence, card: CardReadable, op: Op, notices: Notice[]): Promise<void> {
    const remaining = op.remainingAfter ?? card.record.remainingUses;
    notices.push({ tone: 'success', key: 'redeem.done', params: { uses: op.uses ?? 0, remaining } });
    if (remaining === 0) notices.push({ tone: 'warning', key: 'redeem.done_last' });
    const facts = await this.facts(card);
    this.ui.update(resultView(presence.viewId, this.i18n, facts, notices));
    notices.push(await this.tenderNotice(op));
    notices.push({ tone: 'info', key: 'redeem.remove_card' });
    if (presence.shown) this.ui.update(resultView(presence.viewId, this.i18n, facts, notices));
  }

  /** Applies a recorded redemption to the sale it was made for, if that sale is still the current one. */
  private async tenderNotice(op: Op): Promise<Notice> {
    const p = op.payload as unknown as RedeemPayload;
    const sale = this.sale.current();
    if (!p.saleId || !sale || sale.saleId !== p.saleId) return { tone: 'info', key: 'redeem.tender_none' };
    try {
      const outcome = await this.sale.applyTender({
        saleId: p.saleId, cardNo: op.cardNo, uses: op.uses ?? 0, consumption: op.consumption ?? 'ticket', lineIds: p.lineIds,
        amountFen: p.amountFen, opId: op.opId,
      });
      return outcome.accepted ? { tone: 'success', key: 'redeem.tender_applied' } : { tone: 'warning', key: 'redeem.tender_refused', params: { reason: outcome.reason } };
    } catch (e) {
      this.log.error({ err: String(e), opId: op.opId }, 'the host failed to apply the tender');
      return { tone: 'warning', key: 'redeem.tender_refused', params: { reason: String((e as Error).message ?? e) } };
    }
  }

  /**
   * A write that failed may or may not be on the card. While the card is still there, read it and
   * settle now; once it has gone, the journal keeps the write and the re-tap settles it.
   */
  private async afterFailedWrite(presence: Presence, card: CardReadable, e: unknown): Promise<void> {
    const pending: PendingCardWrite | undefined = isCardError(e) ? e.pending : undefined;
    this.log.warn({ err: String(e), cardNo: String(card.static.cardNumber), pending: pending !== undefined }, 'card write failed');
    if (!pending) {
      // Nothing reached the card (refused before the first write APDU).
      this.ui.update(resultView(presence.viewId, this.i18n, await this.facts(card), [{ tone: 'critical', key: 'redeem.failed' }]));
      return;
    }
    if (presence.session.present) {
      const again = await this.profile.read(presence.session);
      if (isReadable(again) && (await this.journal.pendingFor(pending.cardNumber))) {
        const resolution = resolvePending(again, pending);
        if (resolution === 'landed') {
          const op = await this.journal.complete(pending);
          await this.finish(presence, again, op, []);
          return;
        }
        if (resolution === 'not_landed') {
          await this.journal.abandon(pending);
          this.ui.update(resultView(presence.viewId, this.i18n, await this.facts(again), [{ tone: 'critical', key: 'redeem.failed' }]));
          return;
        }
      }
    }
    presence.keepAfterRemoval = true;
    this.ui.update(resultView(presence.viewId, this.i18n, undefined, [{ tone: 'critical', key: 'redeem.write_unconfirmed' }]));
  }

  private show(presence: Presence, view: Parameters<HostUi['open']>[0], onAction?: (r: ViewResult) => void): void {
    if (presence.shown) {
      this.ui.update(view);
      return;
    }
    presence.shown = true;
    // Resolves when the popup ends: cancel, close, dismissal or our own close. Cancel means no popup
    // again for this presence; nothing else is to be done.
    void this.ui.open(view, onAction).then(
      () => { presence.shown = false; },
      (e) => { presence.shown = false; this.log.error({ err: String(e) }, 'the host failed to show the popup'); },
    );
  }

  private onRemoved(sessionId: string): void {
    const presence = this.presences.get(sessionId);
    if (!presence) return;
    presence.removed = true;
    if (!presence.busy && !presence.keepAfterRemoval) this.closePopup(presence);
  }

  private closePopup(presence: Presence): void {
    this.presences.delete(presence.session.id);
    if (presence.shown) {
      presence.shown = false;
      this.ui.close(presence.viewId);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.subscriptions.dispose();
    for (const p of [...this.presences.values()]) this.closePopup(p);
  }
}
