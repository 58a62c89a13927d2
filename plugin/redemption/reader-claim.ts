/**
 * The reader is shared: by default every card tap opens the cashier's redemption popup; while a
 * management screen holds a claim (sell, renew, re-issue, HQ making …) the taps go to that screen
 * instead and the popup stays away. One claim at a time: a newer claim replaces an older one.
 *
 * A screen that takes taps is chosen before it can ask for a card (it checks the user, reads the
 * database, opens its view): from the moment it is chosen it holds a {@link ReaderClaim.reserve
 * reservation}, and a card tapped meanwhile is kept for it — never given to the popup — and handed
 * to its first claim if it is still on the reader. That claim takes over: from then on the screen's
 * claims alone route the taps, as for a screen opened long ago.
 */
import { injectable } from 'tsyringe';
import type { CardSession } from '../../adapters/card-reader.ts';
import { toDisposable, type Disposable } from '../../adapters/lifecycle.ts';

@injectable()
export class ReaderClaim {
  private holder: ((session: CardSession) => void) | undefined;
  private readonly reservations = new Set<object>();
  /** Taps made while reserved with nobody claiming, oldest first. */
  private kept: CardSession[] = [];

  /** True while a screen takes the taps (or is about to). */
  get held(): boolean {
    return this.holder !== undefined || this.reservations.size > 0;
  }

  /**
   * Holds the reader for a screen about to take taps, until the next {@link claim} or until
   * disposed: taps are kept for that claim instead of opening the popup. Taps nobody claimed are
   * dropped with the last reservation (the cashier chose a screen: the popup is not what they want).
   */
  reserve(): Disposable {
    const reservation = {};
    this.reservations.add(reservation);
    return toDisposable(() => {
      if (this.reservations.delete(reservation) && this.reservations.size === 0) this.kept = [];
    });
  }

  /**
   * Routes every card PRESENT to `onPresent` until disposed, starting with the oldest tap kept by a
   * reservation that is still on the reader; ends the reservations.
   */
  claim(onPresent: (session: CardSession) => void): Disposable {
    const mine = (s: CardSession) => onPresent(s);
    this.holder = mine;
    this.reservations.clear(); // the screen asks for cards itself now
    const first = this.kept.filter((s) => s.present)[0];
    this.kept = [];
    if (first) mine(first);
    return toDisposable(() => {
      if (this.holder === mine) this.holder = undefined;
    });
  }

  /** Gives a tap to the claiming screen (or keeps it for a reserving one); false when the popup handles it. */
  offer(session: CardSession): boolean {
    if (this.holder) {
      this.holder(session);
      return true;
    }
    if (this.reservations.size > 0) {
      this.kept.push(session);
      return true;
    }
    return false;
  }
}
