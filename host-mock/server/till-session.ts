/**
 * The till's own login (the POS's cashiers, not CineCard's users) and language: the host side of
 * `HostSession`. In `host_operator` mode the plugin maps the logged-in cashier onto a CineCard user.
 */
import { scryptSync, timingSafeEqual, randomBytes } from 'node:crypto';
import type { HostOperator, HostSession, Locale } from '../../adapters/host-session.ts';
import { Emitter, type Disposable } from '../../adapters/lifecycle.ts';

export interface TillCashier {
  /** The POS's operator id (what the plugin maps onto a CineCard user). */
  readonly id: string;
  /** What the cashier types to log in (a staff number). */
  readonly login: string;
  readonly name: string;
  readonly password: string;
}

interface StoredCashier {
  readonly id: string;
  readonly login: string;
  readonly name: string;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const hash = (password: string, salt: Buffer) => scryptSync(password, salt, 32, { N: 1024 });

export class TillSession implements HostSession, Disposable {
  private op: HostOperator | undefined;
  private loc: Locale = 'zh-CN';
  private readonly cashiers: StoredCashier[];
  private readonly operatorChanged = new Emitter<HostOperator | undefined>();
  private readonly localeChanged = new Emitter<Locale>();
  readonly onOperatorChanged = this.operatorChanged.event;
  readonly onLocaleChanged = this.localeChanged.event;

  constructor(readonly stationId: string, cashiers: readonly TillCashier[]) {
    this.cashiers = cashiers.map((c) => {
      const salt = randomBytes(16);
      return { id: c.id, login: c.login, name: c.name, salt, hash: hash(c.password, salt) };
    });
  }

  get operator(): HostOperator | undefined {
    return this.op;
  }

  get locale(): Locale {
    return this.loc;
  }

  /** Logs a cashier in; false for an unknown login or a wrong password. */
  login(login: string, password: string): boolean {
    const c = this.cashiers.find((x) => x.login === login.trim());
    const ok = !!c && timingSafeEqual(hash(password, c.salt), c.hash);
    if (!ok || !c) return false;
    this.op = { id: c.id, name: c.name };
    this.operatorChanged.fire(this.op);
    return true;
  }

  logout(): void {
    if (!this.op) return;
    this.op = undefined;
    this.operatorChanged.fire(undefined);
  }

  setLocale(locale: Locale): void {
    if (locale === this.loc) return;
    this.loc = locale;
    this.localeChanged.fire(locale);
  }

  dispose(): void {
    this.operatorChanged.dispose();
    this.localeChanged.dispose();
  }
}
