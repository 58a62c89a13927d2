/**
 * The reader is shared: by default every card tap opens the cashier's redemption popup; while a
 * management screen holds a claim (sell, renew, re-issue, HQ making …) the taps go to that screen
 * instead and the popup stays away. One claim at a time: a newer claim replaces an older one.
 */
import { injectable } from 'tsyringe';
import type { CardSession } from '../../adapters/card-reader.ts';
import { toDisposable, type Disposable } from '../../adapters/lifecycle.ts';

@injectable()
export class ReaderClaim {
  private holder: ((session: CardSession) => void) | undefined;

  /** True while a screen takes the taps. */
  get held(): boolean {
    return this.holder !== undefined;
  }

  /** Routes every card PRESENT to `onPresent` until disposed. */
  claim(onPresent: (session: CardSession) => void): Disposable {
    const mine = (s: CardSession) => onPresent(s);
    this.holder = mine;
    return toDisposable(() => {
      if (this.holder === mine) this.holder = undefined;
    });
  }

  /** Gives a tap to the claiming screen; false when nobody holds the reader (the popup handles it). */
  offer(session: CardSession): boolean {
    if (!this.holder) return false;
    this.holder(session);
    return true;
  }
}
