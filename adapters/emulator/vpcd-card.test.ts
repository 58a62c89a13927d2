/**
 * The vpcd client against a stand-in for vpcd: a TCP server speaking vpcd's side of the protocol,
 * sending, like vpcd 0.8, each frame's length header and payload in separate writes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CLASSIC_1K_ATR, MifareClassic1k } from './mifare-classic.ts';
import { FrameReader, VpcdCard, frame } from './vpcd-card.ts';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const GET_UID = Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00);

/** vpcd's side of one connection: sends messages, reads framed answers. */
class FakeVpcdPeer {
  private readonly frames = new FrameReader();
  private readonly queue: Buffer[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.queue.push(...this.frames.push(d));
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  /** Sends one message the way vpcd 0.8 does: header, then payload, in two writes. */
  async send(payload: Uint8Array): Promise<void> {
    const f = frame(payload);
    this.socket.write(f.subarray(0, 2));
    await new Promise((r) => setTimeout(r, 2));
    this.socket.write(f.subarray(2));
  }

  /** The next answer, or undefined when the card closed the connection instead. */
  async next(timeoutMs = 2000): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0 && !this.closed) {
      if (Date.now() > deadline) throw new Error('no answer from the card');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 20);
      });
    }
    return this.queue.shift();
  }
}

async function listen(server: Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('vpcd card client', () => {
  let server: Server;
  let peers: FakeVpcdPeer[];
  let slot: VpcdCard | undefined;

  const nextPeer = async (): Promise<FakeVpcdPeer> => {
    const n = peers.length;
    while (peers.length === n) await new Promise((r) => setTimeout(r, 5));
    const peer = peers[n]!;
    await peer.send(Uint8Array.of(0x04)); // vpcd's presence poll: accept, then get the ATR
    assert.equal(toHex((await peer.next())!), toHex(CLASSIC_1K_ATR));
    return peer;
  };

  beforeEach(() => {
    peers = [];
    server = createServer((s) => peers.push(new FakeVpcdPeer(s)));
  });
  afterEach(async () => {
    slot?.dispose();
    slot = undefined;
    for (const p of peers) p.socket.destroy();
    await new Promise((r) => server.close(r));
  });

  it('reassembles frames however TCP splits them', () => {
    const reader = new FrameReader();
    const stream = Buffer.concat([frame(Uint8Array.of(0x04)), frame(GET_UID), frame(Uint8Array.of(0x01))]);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 3) out.push(...reader.push(stream.subarray(i, i + 3)));
    assert.deepEqual(out.map(toHex), ['04', toHex(GET_UID), '01']);
  });

  it('answers get-ATR and APDUs, takes power control silently, and is accepted on the first message', async () => {
    const port = await listen(server);
    slot = new VpcdCard({ port });
    const card = new MifareClassic1k({ uid: Uint8Array.of(1, 2, 3, 4) });
    const inserted = slot.insert(card);
    const peer = await nextPeer();
    await inserted;
    await peer.send(Uint8Array.of(0x01)); // power on: no answer expected
    await peer.send(GET_UID);
    assert.equal(toHex((await peer.next())!), '010203049000');
    await peer.send(Uint8Array.of(0x02)); // reset: no answer either
    await peer.send(GET_UID);
    assert.equal(toHex((await peer.next())!), '010203049000');
  });

  it('power off and reset end the authenticated session and clear a halt', async () => {
    const port = await listen(server);
    slot = new VpcdCard({ port });
    const card = new MifareClassic1k();
    void slot.insert(card);
    const peer = await nextPeer();
    await peer.send(Uint8Array.from(Buffer.from('FF82000006000000000000', 'hex')));
    assert.equal(toHex((await peer.next())!), '9000');
    await peer.send(Uint8Array.from(Buffer.from('FF860000050100046000', 'hex')));
    assert.equal(toHex((await peer.next())!), '6300'); // wrong key: halted
    await peer.send(Uint8Array.from(Buffer.from('FF82000006FFFFFFFFFFFF', 'hex')));
    await peer.next();
    await peer.send(Uint8Array.of(0x02));
    await peer.send(Uint8Array.from(Buffer.from('FF860000050100046000', 'hex')));
    assert.equal(toHex((await peer.next())!), '9000');
  });

  it('a torn APDU closes the connection (never an unanswered APDU) and reports the card ejected', async () => {
    const port = await listen(server);
    slot = new VpcdCard({ port });
    const ejected: string[] = [];
    slot.onEjected((r) => ejected.push(r));
    void slot.insert(new MifareClassic1k());
    const peer = await nextPeer();
    slot.card!.setFaults({ tearAt: { apduIndex: 0, applied: false } });
    await peer.send(GET_UID);
    assert.equal(await peer.next(), undefined);
    assert.equal(peer.closed, true);
    assert.deepEqual(ejected, ['torn']);
    assert.equal(slot.card, undefined);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(peers.length, 1, 'a torn card does not come back by itself');
  });

  it('a mute card holds its answer, then leaves the field', async () => {
    const port = await listen(server);
    slot = new VpcdCard({ port, muteHoldMs: 200 });
    void slot.insert(new MifareClassic1k());
    const peer = await nextPeer();
    slot.card!.setFaults({ mute: true });
    const t0 = performance.now();
    await peer.send(GET_UID);
    assert.equal(await peer.next(), undefined);
    const held = performance.now() - t0;
    assert.ok(held >= 190 && held < 1500, `closed after ${held.toFixed(0)} ms`);
  });

  it('waits for vpcd to listen, and reconnects while inserted when vpcd drops it', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r)); // a free port nobody listens on yet
    slot = new VpcdCard({ port, retryDelayMs: 20 });
    const inserted = slot.insert(new MifareClassic1k({ uid: Uint8Array.of(9, 9, 9, 9) }));
    await new Promise((r) => setTimeout(r, 100));
    await listen(server, port); // pcscd (and vpcd with it) started
    const first = await nextPeer();
    await inserted;
    first.socket.destroy(); // pcscd killed
    const second = await nextPeer();
    await second.send(GET_UID);
    assert.equal(toHex((await second.next())!), '090909099000');
    slot.remove();
    assert.equal(await second.next(), undefined);
  });
});
