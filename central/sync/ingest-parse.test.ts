/**
 * The hand-written check of the common op (`parseOp` in ingest.ts) against the zod schema it
 * stands in for: for any input, the same verdict, and the same op when it accepts.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { amountOf, FullOp, isoOrNow, parseOp } from './ingest.ts';

const good = {
  opId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  termSeq: 7,
  terminalId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c',
  cinemaId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d',
  kind: 'redeem',
  cardNo: '12345678',
  cardSeq: 3,
  cardUid: '04A1B2C3',
  operatorId: 'cashier-1',
  consumption: 'ticket',
  uses: 1,
  remainingAfter: 9,
  deviceTime: '2025-06-01T10:00:00.000Z',
  payload: '{"amountFen":3500}',
  hash: 'ab'.repeat(32),
};

/** Values near and across each field's limits, of the right type and of others. */
const anyValue = fc.oneof(
  fc.constantFrom(null, undefined, true, 0, -0, 1, -1, 1.5, 10_000, 10_001, 1_000_000, 1_000_001, 2_000_000_000, 2_000_000_001, Number.MAX_SAFE_INTEGER + 2),
  fc.constantFrom('', 'redeem', 'top_up', 'activate', 'rebuild', 'ticket', 'concession', 'other', '1234', '123', '1'.repeat(20), '1'.repeat(21), '12a4', 'a\u0007b', 'x'.repeat(64), 'x'.repeat(65)),
  fc.string({ maxLength: 70 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const keys = [...Object.keys(good), 'extra', '__proto__x'];

describe('parseOp (the common op checked by hand)', () => {
  it('agrees with the zod schema on every input: same verdict, same op', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), anyValue, { maxKeys: 2 }), fc.array(fc.constantFrom(...Object.keys(good)), { maxLength: 2 }), (changes, dropped) => {
        const op: Record<string, unknown> = { ...good, ...changes };
        for (const k of dropped) delete op[k];
        const fast = parseOp(op);
        const slow = FullOp.safeParse(op);
        assert.equal(fast.success, slow.success, JSON.stringify(op));
        if (fast.success && slow.success) assert.deepStrictEqual(fast.data, slow.data);
        if (fast.success && fast.data === op) accepted++;
      }),
      { numRuns: 5000 },
    );
    // The hand check itself took many of them (not only zod agreeing with zod).
    assert.ok(accepted > 500, `${accepted} taken by hand`);
  });

  it('takes the common op without zod, and leaves zod to name what is wrong', () => {
    const ok = parseOp({ ...good });
    assert.equal(ok.success, true);
    const bad = parseOp({ ...good, uses: -1 });
    assert.equal(bad.success, false);
    if (!bad.success) assert.deepEqual(bad.error.issues.map((i) => i.path.join('.')), ['uses']);
  });
});

describe('the usual device time and payload, read without parsing', () => {
  /** What the fast paths stand in for: parse and print the time; parse the payload. */
  const parsedTime = (s: string, now: string) => {
    const ms = Date.parse(s);
    return Number.isFinite(ms) ? new Date(ms).toISOString() : now;
  };
  const parsedAmount = (s: string) => {
    try {
      const v = (JSON.parse(s) as Record<string, unknown> | null)?.['amountFen'];
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 100_000_000 ? v : null;
    } catch {
      return null;
    }
  };
  const digits = (max: number, width: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(width, '0'));

  it('a device time in the terminals’ form gives what parsing and printing it gives, for real and impossible dates alike', () => {
    fc.assert(
      fc.property(digits(9999, 4), digits(14, 2), digits(32, 2), digits(25, 2), digits(60, 2), digits(60, 2), digits(999, 3), (y, mo, d, h, mi, s, ms) => {
        const time = `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`;
        assert.equal(isoOrNow(time, 'NOW'), parsedTime(time, 'NOW'));
      }),
      { numRuns: 5000 },
    );
    for (const time of ['2024-02-29T23:59:59.999Z', '2023-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2000-02-29T00:00:00.000Z', '0004-02-29T00:00:00.000Z', '2025-06-01T10:00:00Z', 'yesterday']) {
      assert.equal(isoOrNow(time, 'NOW'), parsedTime(time, 'NOW'), time);
    }
  });

  it('a payload of its amount alone gives what parsing it gives, up to the limit and past it', () => {
    const payloads = fc.oneof(
      fc.integer({ min: 0, max: 2_000_000_000 }).map((n) => `{"amountFen":${n}}`),
      fc.constantFrom('{"amountFen":0}', '{"amountFen":00}', '{"amountFen":100000000}', '{"amountFen":100000001}', '{"amountFen":-1}', '{"amountFen":1.5}', '{"amountFen": 5}', '{}', 'not json'),
      fc.json(),
    );
    fc.assert(fc.property(payloads, (p) => assert.equal(amountOf(p), parsedAmount(p))), { numRuns: 3000 });
  });
});
