/**
 * The local checks between reading a card and offering a redemption: what the card says (read
 * outcome, status, blocked flag, uses, expiry) and what this terminal knows (blacklist, chain). Pure:
 * the caller gathers the facts; each refusal names the catalogue message the popup shows.
 */
import type { CardIoErrorKind } from '../../adapters/card-reader.ts';
import { isReadable, type CardReadable, type CardReadOutcome } from '../card/card-outcome.ts';
import type { MessageKey } from '../i18n/catalogue.ts';

export type CardProblem =
  | 'blank'
  | 'not_ours'
  | 'mac_invalid'
  | 'unreadable'
  | 'blacklisted'
  | 'blocked'
  | 'not_activated'
  | 'recycled'
  | 'cancelled'
  | 'exhausted'
  | 'expired'
  | `reader_${Exclude<CardIoErrorKind, 'card_removed'>}`;

export type CardVerdict =
  /** The card may be redeemed; `torn` when its last write was interrupted (the valid copy rules). */
  | { readonly kind: 'usable'; readonly card: CardReadable; readonly torn: boolean }
  /** Nothing may be done; `card` is set when the card read well enough to show its data. */
  | { readonly kind: 'refused'; readonly problem: CardProblem; readonly card?: CardReadable }
  /** The card left during the read: show nothing. */
  | { readonly kind: 'gone' };

export interface LocalFacts {
  /** Unix seconds now. */
  readonly nowSeconds: number;
  readonly chainId: number;
  readonly blacklisted: boolean;
}

export function checkCard(outcome: CardReadOutcome, facts: LocalFacts | undefined): CardVerdict {
  switch (outcome.kind) {
    case 'card_removed':
      return { kind: 'gone' };
    case 'reader_error':
      return { kind: 'refused', problem: `reader_${outcome.io === 'card_removed' ? 'transmit_failed' : outcome.io}` };
    case 'blank':
    case 'not_ours':
    case 'mac_invalid':
    case 'unreadable':
      return { kind: 'refused', problem: outcome.kind };
  }
  if (!isReadable(outcome) || !facts) return { kind: 'refused', problem: 'unreadable' };
  const card = outcome;
  const refuse = (problem: CardProblem): CardVerdict => ({ kind: 'refused', problem, card });
  if (card.static.chainId !== facts.chainId) return refuse('not_ours');
  if (facts.blacklisted) return refuse('blacklisted');
  if (card.static.blocked) return refuse('blocked');
  const r = card.record;
  if (r.status === 'made') return refuse('not_activated');
  if (r.status === 'recycled') return refuse('recycled');
  if (r.status === 'cancelled') return refuse('cancelled');
  if (r.remainingUses <= 0) return refuse('exhausted');
  if (r.expiry <= facts.nowSeconds) return refuse('expired');
  return { kind: 'usable', card, torn: card.kind === 'torn' };
}

/** The catalogue message for a problem. */
export function problemMessage(problem: CardProblem): MessageKey {
  return problem.startsWith('reader_') ? (`reader.${problem.slice('reader_'.length)}` as MessageKey) : (`card.${problem}` as MessageKey);
}
