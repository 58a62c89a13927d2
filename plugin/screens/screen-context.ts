/**
 * What the management screens share: the services they use (one injection instead of a dozen), the
 * cinema's dates, the permission re-check before each action, a card tap taken from the reader
 * (the redemption popup stays away meanwhile), a card write through the journal that records its op
 * in the same transaction, and reporting an op to central when online.
 */
import { inject, injectable } from 'tsyringe';
import type { CardSession } from '../../adapters/card-reader.ts';
import { Clock } from '../../adapters/clock.ts';
import { HostUi, type ViewNode, type ViewResult } from '../../adapters/host-ui.ts';
import type { Disposable } from '../../adapters/lifecycle.ts';
import { Logger } from '../../adapters/logger.ts';
import type { Actor, Permission } from '../auth/permissions.ts';
import type { LocalUsers, UserSession } from '../auth/user-session.ts';
import type { CardRecordInput } from '../card/card-data.ts';
import { isCardError, isReadable, type CardReadable } from '../card/card-outcome.ts';
import type { CardProfile } from '../card/card-profile.ts';
import { resolvePending } from '../card/card-write-journal.ts';
import type { PluginConfig } from '../config.ts';
import type { Translator } from '../i18n/translator.ts';
import { checkCard, problemMessage } from '../redemption/card-check.ts';
import { ReaderClaim } from '../redemption/reader-claim.ts';
import { cardLines } from '../redemption/redemption-popup.ts';
import type { CardCache } from '../store/card-cache.ts';
import type { TerminalCardJournal } from '../store/card-journal.ts';
import { CardTypeCatalogue, DEFAULT_VALIDITY_DAYS, type CardTypeTerms } from '../store/card-type-terms.ts';
import type { RedemptionRuleStore } from '../store/redemption-rule-store.ts';
import type { Op, OpDraft, TerminalStore } from '../store/terminal-store.ts';
import {
  CardCacheToken, CardJournalToken, CardProfileToken, LocalUsersToken, PluginConfigToken, PluginSyncToken, RuleStoreToken, TerminalStoreToken,
  TranslatorToken, UserSessionToken,
} from '../tokens.ts';
import type { PluginSync } from '../sync/plugin-sync.ts';
import { requirePermission } from './plugin-screen.ts';
import { CentralLink, sendChange, type CardChange } from './central-link.ts';
import { ScreenView, ViewKit, type Notice } from './screen-view.ts';
import type { MessageKey } from '../i18n/catalogue.ts';

const DAY = 86_400;
/** Meta key: card changes central has not heard of yet (JSON array, oldest first). */
const BACKLOG = 'screens.central_backlog';

/** A card on the reader, read and verified, with what resolving an earlier write of it said. */
export interface TappedCard {
  readonly session: CardSession;
  readonly card: CardReadable;
  readonly notices: readonly Notice[];
}

/** What a tap came to while the prompt view stays open; `ended` resolves when that view ends. */
export type Tap = { readonly ended: Promise<ViewResult | undefined> } & (
  | ({ readonly kind: 'card' } & TappedCard)
  | { readonly kind: 'refused'; readonly problem: Notice }
);

export type WriteOutcome = { readonly kind: 'written'; readonly op: Op; readonly card: CardReadable } | { readonly kind: 'failed'; readonly problem: Notice };

@injectable()
export class ScreenContext {
  readonly kit: ViewKit;
  readonly types: CardTypeCatalogue;
  private readonly dateFormat: Intl.DateTimeFormat;

  constructor(
    @inject(HostUi) readonly ui: HostUi,
    @inject(TranslatorToken) readonly i18n: Translator,
    @inject(Clock) readonly clock: Clock,
    @inject(Logger) readonly logger: Logger,
    @inject(PluginConfigToken) readonly config: PluginConfig,
    @inject(TerminalStoreToken) readonly store: TerminalStore,
    @inject(CardCacheToken) readonly cards: CardCache,
    @inject(CardJournalToken) readonly journal: TerminalCardJournal,
    @inject(CardProfileToken) readonly profile: CardProfile,
    @inject(RuleStoreToken) readonly rules: RedemptionRuleStore,
    @inject(LocalUsersToken) readonly localUsers: LocalUsers,
    @inject(UserSessionToken) readonly users: UserSession,
    @inject(ReaderClaim) private readonly claim: ReaderClaim,
    @inject(CentralLink) readonly central: CentralLink,
    @inject(PluginSyncToken) readonly sync: PluginSync,
  ) {
    this.kit = new ViewKit(i18n);
    this.types = new CardTypeCatalogue(store.db);
    this.dateFormat = new Intl.DateTimeFormat('en-CA', { timeZone: config.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  view(id: string, title: MessageKey): ScreenView {
    return new ScreenView(this.ui, this.kit, id, title);
  }

  nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  /** Unix seconds as the cinema's local date, `YYYY-MM-DD`. */
  date(unixSeconds: number): string {
    return this.dateFormat.format(new Date(unixSeconds * 1000));
  }

  /** The last second of a local date (`YYYY-MM-DD`) in the cinema's time zone; undefined if not a date. */
  endOfDay(isoDate: string): number | undefined {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate)) return undefined;
    const midnightUtc = Date.parse(`${isoDate}T00:00:00Z`) / 1000;
    if (!Number.isFinite(midnightUtc) || this.date(midnightUtc + 12 * 3600) !== isoDate) return undefined;
    return midnightUtc + DAY - 1 - this.offsetSeconds(midnightUtc);
  }

  /** When today began in the cinema, as an ISO instant (the recycle list is per day). */
  startOfToday(): string {
    const today = this.date(this.nowSeconds());
    return new Date((this.endOfDay(today)! + 1 - DAY) * 1000).toISOString();
  }

  private offsetSeconds(atUnix: number): number {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: this.config.timeZone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(atUnix * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
  }

  /** A type's validity (default one year) from now, as a local date: the default of expiry fields. */
  defaultExpiryDate(type: CardTypeTerms | undefined): string {
    return this.date(this.nowSeconds() + (type?.validityDays ?? DEFAULT_VALIDITY_DAYS) * DAY);
  }

  /** The user now at the till, if they (still) may do `permission`; shows the refusal otherwise. */
  async allowed(permission: Permission): Promise<Actor | undefined> {
    const actor = await this.users.settled();
    return (await requirePermission(this.ui, this.i18n, actor, permission)) ? actor : undefined;
  }

  /** The card's data, as the redemption popup lists it. */
  async cardLines(card: CardReadable): Promise<ViewNode[]> {
    const type = await this.types.byCode(card.static.cardType);
    return cardLines(this.i18n, { card, typeName: type?.name, date: (s) => this.date(s) });
  }

  /**
   * Opens `view` with `prompt` and takes the next card tapped; undefined when the view ended first
   * (cancel). The view stays open for the caller to update. An unfinished earlier write of the card
   * is settled first, exactly as the redemption popup does.
   */
  async tap(view: ScreenView, prompt: ViewNode[]): Promise<Tap | undefined> {
    return this.tapWhile(view.open(prompt));
  }

  /** {@link tap} for a view already open (`ended`: its open promise), e.g. one that takes card after card. */
  async tapWhile(ended: Promise<ViewResult | undefined>): Promise<Tap | undefined> {
    const session = await this.nextCard(ended);
    if (!session) return undefined;
    const outcome = await this.profile.read(session);
    if (!isReadable(outcome)) {
      const verdict = checkCard(outcome, undefined);
      const key: MessageKey = verdict.kind === 'refused' ? problemMessage(verdict.problem) : 'reader.card_removed';
      return { ended, kind: 'refused', problem: { tone: 'critical', key } };
    }
    if (outcome.static.chainId !== this.config.terminal.chainId) return { ended, kind: 'refused', problem: { tone: 'critical', key: 'card.not_ours' } };
    const notices: Notice[] = [];
    const pending = await this.journal.pendingFor(outcome.static.cardNumber);
    if (pending) {
      const resolution = resolvePending(outcome, pending);
      if (resolution === 'landed') {
        await this.journal.complete(pending);
        notices.push({ tone: 'success', key: 'screen.earlier_write_landed' });
      } else if (resolution === 'other_card' || resolution === 'unreadable') {
        return { ended, kind: 'refused', problem: { tone: 'critical', key: 'redeem.pending_other_card' } };
      } else {
        await this.journal.abandon(pending);
        notices.push({ tone: 'info', key: 'screen.earlier_write_dropped' });
      }
    }
    return { ended, kind: 'card', session, card: outcome, notices };
  }

  /** The next card put on the reader (taken from the redemption popup), or undefined once `until` settles. */
  async nextCard(until: Promise<unknown>): Promise<CardSession | undefined> {
    let claim: Disposable | undefined;
    const present = new Promise<CardSession>((resolve) => {
      claim = this.claim.claim(resolve);
    });
    try {
      return await Promise.race([until.then(() => undefined), present]);
    } finally {
      claim!.dispose();
    }
  }

  /**
   * {@link tap}, showing a refusal itself (unreadable, not ours, unsettled write …) until the view
   * is closed: resolves with a usable card only, else undefined.
   */
  async tapUsable(view: ScreenView, prompt: ViewNode[]): Promise<(TappedCard & { readonly ended: Promise<ViewResult | undefined> }) | undefined> {
    const tap = await this.tap(view, prompt);
    if (tap?.kind !== 'refused') return tap;
    view.update([this.kit.banner(tap.problem), this.kit.close()]);
    await tap.ended;
    return undefined;
  }

  /** Writes `next` onto the card; the op is recorded (ops + outbox + card cache) once it is read back. */
  async write(tapped: TappedCard, next: CardRecordInput, draft: OpDraft): Promise<WriteOutcome> {
    const journal = this.journal.forOp({ draft, cardTypeCode: tapped.card.static.cardType });
    try {
      const written = await this.profile.writeRecord(tapped.session, tapped.card, next, journal);
      return { kind: 'written', op: journal.committed!, card: written.card };
    } catch (e) {
      this.logger.warn({ err: String(e), cardNo: draft.cardNo, kind: draft.kind }, 'a screen card write failed');
      const unconfirmed = isCardError(e) && e.pending !== undefined;
      return { kind: 'failed', problem: { tone: 'critical', key: unconfirmed ? 'screen.write_unconfirmed' : 'screen.write_failed' } };
    }
  }

  /**
   * Tells central about a change already recorded locally. On a till with sync, the op in the
   * outbox is central's record of it (`spec/sync.md` §2): nothing more to send. Elsewhere (an HQ
   * station under an operator's login) it goes through the API; changes central could not be
   * reached for are kept, in order, and sent before the next one: see {@link catchUp}.
   */
  async tell(change: CardChange): Promise<Notice> {
    if (this.sync.configured) {
      // A till's op is central's record of the change: sync uploads it now (kicked by the write).
      return this.sync.status.offline ? { tone: 'info', key: 'screen.queued_offline' } : { tone: 'info', key: 'screen.recorded_syncing' };
    }
    const left = await this.catchUp();
    if (left > 0) {
      await this.saveBacklog([...(await this.backlog()), change]);
      return { tone: 'info', key: 'screen.queued_offline' };
    }
    const a = await sendChange(this.central, change);
    if (a.kind === 'ok') return { tone: 'success', key: 'screen.sent_to_central' };
    if (a.kind === 'offline') {
      await this.saveBacklog([...(await this.backlog()), change]);
      return { tone: 'info', key: 'screen.queued_offline' };
    }
    return { tone: 'warning', key: 'screen.central_refused', params: { message: a.error.message } };
  }

  /**
   * Sends the changes kept while central could not be reached, oldest first, until one finds it
   * unreachable again; resolves with how many are still kept. One central refuses is dropped (logged):
   * retrying cannot change its answer.
   */
  async catchUp(): Promise<number> {
    const backlog = await this.backlog();
    let sent = 0;
    for (const change of backlog) {
      const a = await sendChange(this.central, change);
      if (a.kind === 'offline') break;
      if (a.kind === 'refused') this.logger.warn({ cardNo: change.cardNo, path: change.path, code: a.error.code }, 'central refused a change made offline');
      sent += 1;
    }
    if (sent > 0) await this.saveBacklog(backlog.slice(sent));
    return backlog.length - sent;
  }

  private async backlog(): Promise<CardChange[]> {
    return JSON.parse((await this.store.getMeta(BACKLOG)) ?? '[]') as CardChange[];
  }

  private async saveBacklog(changes: readonly CardChange[]): Promise<void> {
    await this.store.setMeta(BACKLOG, JSON.stringify(changes));
  }
}
