/**
 * The card's life as an explicit state machine. Pure: no database, no clock. The registry asks it
 * whether an action is allowed and what the card looks like afterwards; the tests walk every edge.
 *
 * ```
 *            activate              ledger: remaining 0 (exhausted)
 *   made ─────────────► active ───────────────────────────────► recycled ──┐
 *                        ▲  │        recycle (card returned)       ▲  │     │ changeType
 *                        │  └──────────────────────────────────────┘  │     │ (stays recycled)
 *                        │      ledger: remaining > 0 again (a late   │◄────┘
 *                        │      top-up of an exhausted card)          │
 *                        └──────────────── reissue (epoch + 1) ───────┘
 * ```
 * `blacklisted` is a flag beside the state, not a state: a blacklisted card keeps its place in the
 * life above, but nothing may be done to it (sale, renewal, top-up, re-issue, type change) until it
 * is taken off the list. Recycling stays possible: a blacklisted card handed back is still collected.
 */

export const cardStates = ['made', 'active', 'recycled'] as const;
export type CardState = (typeof cardStates)[number];

/** Why a card was marked recycled: its uses ran out (automatic), or it was handed back. */
export const recycleReasons = ['exhausted', 'returned'] as const;
export type RecycleReason = (typeof recycleReasons)[number];

/** The part of a card the state machine decides on. */
export interface CardLifeState {
  readonly state: CardState;
  readonly blacklisted: boolean;
  readonly issueEpoch: number;
  readonly recycledReason: RecycleReason | null;
}

/** Every administrative action on a card, and the ledger's two automatic ones. */
export type CardAction =
  | 'activate'
  | 'renew'
  | 'topUp'
  | 'blacklist'
  | 'unblacklist'
  | 'recycle'
  | 'reissue'
  | 'changeType'
  | 'exhaust'
  | 'replenish';

/** Why an action is refused; each maps onto one catalogue message. */
export type Refusal =
  | 'card_blacklisted'
  | 'card_not_blacklisted'
  | 'card_already_blacklisted'
  | 'card_wrong_state';

export type Transition =
  | { readonly ok: true; readonly next: CardLifeState }
  | { readonly ok: false; readonly refusal: Refusal; readonly allowedStates: readonly CardState[] };

/** Which states each action starts from. */
export const allowedFrom: Readonly<Record<CardAction, readonly CardState[]>> = {
  activate: ['made'],
  renew: ['active'],
  topUp: ['active', 'recycled'],
  blacklist: ['made', 'active', 'recycled'],
  unblacklist: ['made', 'active', 'recycled'],
  recycle: ['active'],
  reissue: ['recycled'],
  changeType: ['recycled'],
  exhaust: ['active'],
  replenish: ['recycled'],
};

/** Actions a blacklisted card still allows: the list itself, recycling and what the ledger sees. */
const allowedWhileBlacklisted: ReadonlySet<CardAction> = new Set<CardAction>([
  'unblacklist',
  'recycle',
  'exhaust',
  'replenish',
]);

/**
 * Whether `action` may be done to a card in `card`'s state, and the state afterwards. A top-up of a
 * recycled card is allowed only when it was recycled because it ran out (the holder still has it).
 */
export function transition(card: CardLifeState, action: CardAction): Transition {
  const refuse = (refusal: Refusal): Transition => ({ ok: false, refusal, allowedStates: allowedFrom[action] });
  if (action === 'blacklist' && card.blacklisted) return refuse('card_already_blacklisted');
  if (action === 'unblacklist' && !card.blacklisted) return refuse('card_not_blacklisted');
  if (card.blacklisted && !allowedWhileBlacklisted.has(action)) return refuse('card_blacklisted');
  if (!allowedFrom[action].includes(card.state)) return refuse('card_wrong_state');
  if ((action === 'topUp' || action === 'replenish') && card.state === 'recycled' && card.recycledReason !== 'exhausted') {
    return refuse('card_wrong_state');
  }
  switch (action) {
    case 'activate':
    case 'replenish':
      return ok({ ...card, state: 'active', recycledReason: null });
    case 'topUp':
      return ok(card.state === 'recycled' ? { ...card, state: 'active', recycledReason: null } : card);
    case 'renew':
    case 'changeType':
      return ok(card);
    case 'blacklist':
      return ok({ ...card, blacklisted: true });
    case 'unblacklist':
      return ok({ ...card, blacklisted: false });
    case 'recycle':
      return ok({ ...card, state: 'recycled', recycledReason: 'returned' });
    case 'exhaust':
      return ok({ ...card, state: 'recycled', recycledReason: 'exhausted' });
    case 'reissue':
      return ok({ ...card, state: 'active', recycledReason: null, issueEpoch: card.issueEpoch + 1 });
  }
}

function ok(next: CardLifeState): Transition {
  return { ok: true, next };
}
