/**
 * Presents a {@link MifareClassic1k} to pcscd through vsmartcard's vpcd driver, so that
 * pcsc-mini → pcscd → vpcd sees it as a real card (reference §3).
 *
 * vpcd listens on TCP 35963 (slot 0, reader "Virtual PCD 00 00") and 35964 (slot 1); the card is the
 * TCP client. Both directions frame each message as `uint16 BE length ‖ payload`. vpcd → card
 * messages of one byte are control messages (00 power off, 01 power on, 02 reset, 04 get ATR; only
 * 04 is answered); longer ones are C-APDUs, answered with the R-APDU.
 *
 * Inserting the card = connecting; removing it = closing the socket. vpcd reads with a blocking
 * `recv(MSG_WAITALL)` and no timeout, so an APDU is never left unanswered: a torn APDU closes the
 * socket (the card left the field), a mute card holds its answer for `muteHoldMs` and then closes
 * the socket, so the slot never freezes.
 */
import { Socket, connect } from 'node:net';
import { Emitter, type Event } from '../lifecycle.ts';
import type { MifareClassic1k } from './mifare-classic.ts';

export const VPCD_PORT_SLOT0 = 35963;

/** Why a card left vpcd on its own: a torn APDU, or a mute card after its hold time. */
export type VpcdEjectReason = 'torn' | 'mute';

export interface VpcdCardOptions {
  /** Where vpcd listens; default 127.0.0.1. */
  readonly host?: string;
  /** vpcd's port: 35963 + slot. Default 35963 (slot 0). */
  readonly port?: number;
  /** How long a mute card holds back its answer before leaving the field, ms. Default 3000. */
  readonly muteHoldMs?: number;
  /** Delay between connection attempts while vpcd is not listening (pcscd starting), ms. Default 50. */
  readonly retryDelayMs?: number;
  /** Sees every message from vpcd, for debugging. */
  readonly trace?: (line: string) => void;
}

const CTRL_POWER_OFF = 0x00;
const CTRL_POWER_ON = 0x01;
const CTRL_RESET = 0x02;
const CTRL_GET_ATR = 0x04;

/** Splits a byte stream into `uint16 BE length ‖ payload` frames, however TCP cut it up. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the complete frames they finished, in order. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) break;
      frames.push(this.buf.subarray(2, 2 + len));
      this.buf = this.buf.subarray(2 + len);
    }
    return frames;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

/** One frame, header and payload in a single write (vpcd reads the header, then the payload). */
export function frame(payload: Uint8Array): Buffer {
  if (payload.length === 0 || payload.length > 0xffff) throw new RangeError('vpcd frames carry 1..65535 bytes');
  const out = Buffer.allocUnsafe(2 + payload.length);
  out.writeUInt16BE(payload.length, 0);
  out.set(payload, 2);
  return out;
}

/**
 * One vpcd slot with (at most) one emulated card on it. While the card is inserted, the client
 * stays connected: if vpcd drops the connection (pcscd stopped or restarted) it reconnects until
 * vpcd listens again, as a card lying on a reader would reappear when the reader comes back.
 */
export class VpcdCard {
  private readonly host: string;
  private readonly port: number;
  private readonly muteHoldMs: number;
  private readonly retryDelayMs: number;
  private readonly trace: ((line: string) => void) | undefined;
  private socket: Socket | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private muteTimer: NodeJS.Timeout | undefined;
  private wanted = false;
  private current: MifareClassic1k | undefined;
  private readonly frames = new FrameReader();
  private readonly ejected = new Emitter<VpcdEjectReason>();
  private readonly connectedEmitter = new Emitter<void>();
  /** The card left on its own (torn APDU, or mute after its hold time); it is no longer inserted. */
  readonly onEjected: Event<VpcdEjectReason> = this.ejected.event;
  /** vpcd accepted the card's connection (after a (re)connect, on its first message). */
  readonly onConnected: Event<void> = this.connectedEmitter.event;

  constructor(options: VpcdCardOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? VPCD_PORT_SLOT0;
    this.muteHoldMs = options.muteHoldMs ?? 3000;
    this.retryDelayMs = options.retryDelayMs ?? 50;
    this.trace = options.trace;
  }

  /** The card on the slot now, if any. */
  get card(): MifareClassic1k | undefined {
    return this.wanted ? this.current : undefined;
  }

  /** The last card inserted, even if it has left since. */
  get lastCard(): MifareClassic1k | undefined {
    return this.current;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.connecting && !this.socket.destroyed;
  }

  /**
   * Puts `card` on the slot (taking away the one there). Resolves once vpcd has accepted it, which
   * may be before pcscd reports it: wait for the reader's PRESENT event for that.
   */
  async insert(card: MifareClassic1k, timeoutMs = 10_000): Promise<void> {
    this.remove();
    card.powerCycle();
    this.current = card;
    this.wanted = true;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new Error(`vpcd at ${this.host}:${this.port} did not accept the card within ${timeoutMs} ms`));
      }, timeoutMs);
      const sub = this.onConnected(() => {
        clearTimeout(timer);
        sub.dispose();
        resolve();
      });
      this.open();
    });
  }

  /** Takes the card away: closes the connection, so vpcd reports it absent on its next poll. */
  remove(): void {
    this.wanted = false;
    this.current?.powerCycle();
    this.drop();
  }

  dispose(): void {
    this.remove();
    this.ejected.dispose();
    this.connectedEmitter.dispose();
  }

  private drop(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.muteTimer);
    this.retryTimer = this.muteTimer = undefined;
    const s = this.socket;
    this.socket = undefined;
    this.frames.reset();
    s?.destroy();
  }

  private open(): void {
    if (!this.wanted || this.socket) return;
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = s;
    let accepted = false;
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      // vpcd accepts a card only when pcscd polls the slot, and then asks for the ATR: the first
      // message says the card is seen (a TCP connect alone only reached the listen backlog).
      if (!accepted) {
        accepted = true;
        this.connectedEmitter.fire();
      }
      for (const f of this.frames.push(chunk)) this.onFrame(s, f);
    });
    s.on('error', () => {}); // 'close' follows; refused/reset are expected while pcscd restarts
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.frames.reset();
      this.current?.powerCycle();
      if (this.wanted) this.retryTimer = setTimeout(() => this.open(), this.retryDelayMs);
    });
  }

  private onFrame(s: Socket, msg: Buffer): void {
    const card = this.current;
    this.trace?.(`<- ${msg.toString('hex')}`);
    if (!card || this.muteTimer) return; // a mute card answers nothing more
    if (msg.length === 1) {
      switch (msg[0]) {
        case CTRL_GET_ATR:
          s.write(frame(card.atr));
          return;
        case CTRL_POWER_OFF:
        case CTRL_POWER_ON:
        case CTRL_RESET:
          card.powerCycle();
          return;
        default:
          return; // unknown control messages expect no answer
      }
    }
    const reply = card.transmit(Uint8Array.from(msg));
    if (reply.kind === 'response') {
      s.write(frame(reply.data));
    } else if (reply.kind === 'removed') {
      this.eject('torn');
    } else {
      // Hold the answer, then leave the field: vpcd is blocked in recv() until the socket closes.
      this.muteTimer = setTimeout(() => this.eject('mute'), this.muteHoldMs);
    }
  }

  private eject(reason: VpcdEjectReason): void {
    this.wanted = false;
    this.current?.powerCycle();
    this.drop();
    this.ejected.fire(reason);
  }
}
