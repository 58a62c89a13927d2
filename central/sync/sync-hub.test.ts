/**
 * The poke hub's own rules, with stand-in sockets: pokes coalesce, a few blacklist rows travel
 * ahead of their poke, a slow reader is skipped (not buffered), and a peer that stops answering
 * pings is dropped.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { Platform } from '../platform.ts';
import { SyncHub } from './sync-hub.ts';

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  answersPings = true;
  terminated = false;
  readonly sent: string[] = [];
  send(frame: string): void {
    this.sent.push(frame);
  }
  ping(): void {
    if (this.answersPings) queueMicrotask(() => this.emit('pong'));
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close');
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('sync hub', () => {
  let hub: SyncHub;
  afterEach(() => hub.close());

  it('coalesces a burst of commits into one poke with the latest position', async () => {
    hub = new SyncHub({} as Platform, { pingIntervalMs: 60_000, maxBufferedBytes: 1024 }, { head: 0, blacklistVersion: 0 });
    const ws = new FakeSocket();
    hub.adopt(ws as unknown as WebSocket);
    for (let head = 1; head <= 50; head++) hub.poke({ head, blacklistVersion: head === 7 ? 7 : 0 });
    await tick();
    const pokes = ws.sent.map((f) => JSON.parse(f)).filter((m) => m.type === 'poke');
    assert.deepEqual(pokes, [{ type: 'poke', head: 50, blacklistVersion: 7 }]);
  });

  it('sends the blacklist rows a poke announces ahead of it, read once for every socket; none when there are too many', async () => {
    const reads: [number, number][] = [];
    let tooMany = false;
    const reader = async (after: number, upTo: number) => {
      reads.push([after, upTo]);
      return tooMany ? undefined : [{ id: upTo, cardNo: '62000001', listed: true, reason: 'lost', at: '2026-01-01T00:00:00.000Z' }];
    };
    hub = new SyncHub({} as Platform, { pingIntervalMs: 60_000, maxBufferedBytes: 1024 }, { head: 10, blacklistVersion: 5 }, reader);
    const a = new FakeSocket();
    const b = new FakeSocket();
    hub.adopt(a as unknown as WebSocket);
    hub.adopt(b as unknown as WebSocket);
    const after = (ws: FakeSocket, from: number) => ws.sent.slice(from).map((f) => JSON.parse(f));
    hub.poke({ head: 12, blacklistVersion: 12 });
    await tick();
    await tick();
    const entry = { id: 12, cardNo: '62000001', listed: true, reason: 'lost', at: '2026-01-01T00:00:00.000Z' };
    for (const ws of [a, b]) {
      assert.deepEqual(after(ws, 1), [{ type: 'blacklist', after: 5, upTo: 12, entries: [entry] }, { type: 'poke', head: 12, blacklistVersion: 12 }]);
    }
    assert.deepEqual(reads, [[5, 12]]);
    // Data only: the poke alone, nothing read.
    hub.poke({ head: 13, blacklistVersion: 12 });
    await tick();
    await tick();
    assert.deepEqual(after(a, 3), [{ type: 'poke', head: 13, blacklistVersion: 12 }]);
    assert.equal(reads.length, 1);
    // Too many rows (or a failed read): the poke alone; terminals pull.
    tooMany = true;
    hub.poke({ head: 20, blacklistVersion: 20 });
    await tick();
    await tick();
    assert.deepEqual(after(a, 4), [{ type: 'poke', head: 20, blacklistVersion: 20 }]);
    assert.deepEqual(reads[1], [12, 20]);
  });

  it('skips a slow reader instead of buffering for it, and pokes it again once it drained', async () => {
    hub = new SyncHub({} as Platform, { pingIntervalMs: 60_000, maxBufferedBytes: 1024 }, { head: 0, blacklistVersion: 0 });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    hub.adopt(slow as unknown as WebSocket);
    hub.adopt(fast as unknown as WebSocket);
    slow.bufferedAmount = 1 << 20;
    hub.poke({ head: 1, blacklistVersion: 0 });
    await tick();
    assert.equal(slow.sent.length, 1); // the welcome only
    assert.equal(fast.sent.length, 2);
    assert.equal(hub.skipped, 1);
    slow.bufferedAmount = 0;
    hub.poke({ head: 2, blacklistVersion: 0 });
    await tick();
    assert.equal(JSON.parse(slow.sent[1]!).head, 2);
  });

  it('drops a peer that missed a pong, keeps one that answers', async () => {
    hub = new SyncHub({} as Platform, { pingIntervalMs: 20, maxBufferedBytes: 1024 }, { head: 0, blacklistVersion: 0 });
    const dead = new FakeSocket();
    dead.answersPings = false;
    const alive = new FakeSocket();
    hub.adopt(dead as unknown as WebSocket);
    hub.adopt(alive as unknown as WebSocket);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(dead.terminated, true);
    assert.equal(alive.terminated, false);
    assert.equal(hub.connections, 1);
  });
});
