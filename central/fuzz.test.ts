/**
 * Property-based fuzzing of every operation in the spec (read from spec/openapi.yaml, so new
 * modules are covered without edits): random path parameters, queries and bodies — mostly fitting
 * the schemas, some broken, some junk — sent by an admin, a cinema manager, a terminal, or nobody. Properties:
 * never a 5xx; every response, 4xx included, matches the spec (errors have a type, code, message).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeCentral } from './test-support/harness.ts';
import { fuzzValue, junk, nastyString } from './test-support/fuzz.ts';
import { resolveRef, specOperations, specValidator } from './test-support/spec-validator.ts';
import { seedCardDomain } from './cards/card-fixtures.ts';

/** encodeURIComponent, except that a lone surrogate goes out as the bytes of its (invalid) UTF-8. */
function percentEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value].map((ch) => (/[\ud800-\udfff]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}

/** String(v), except for junk objects String cannot convert (e.g. a `toString` key that is not a function). */
function asText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return JSON.stringify(value);
  }
}

const runsPerOperation = Number(process.env['CINECARD_FUZZ_RUNS'] ?? 30);

describeCentral('fuzzing every operation', (central) => {
  const spec = specValidator.spec;
  const knownIds: string[] = [];
  const tokens: (string | undefined)[] = [undefined];

  before(async function () {
    this.timeout(60_000);
    const c = central();
    const cinema = await c.createCinema('Fuzz cinema');
    const spare = await c.enrolTerminal(cinema.id);
    const manager = await c.loginAs('manager', { cinemaId: cinema.id });
    const seller = await c.createUser(['salesperson'], cinema.id);
    const till = await c.enrolTerminal(cinema.id);
    knownIds.push(cinema.id, spare.terminalId, seller.user.id, manager.user.id);
    knownIds.push(...(await seedCardDomain(c, cinema.id)));
    tokens.push(c.admin.token, c.admin.token, c.admin.token, c.admin.token, manager.token, till.token);
  });

  /** Operations some fuzzed input got through (2xx): the inputs reach the handlers, not just validation. */
  const succeeded = new Set<string>();

  for (const op of specOperations()) {
    it(`${op.operationId} (${op.method.toUpperCase()} ${op.path}): no 5xx, every answer as the spec says`, async function () {
      this.timeout(60_000);
      const parameters = [...op.pathParameters].map((p) => resolveRef(spec, p));
      const pathParams = parameters.filter((p) => p['in'] === 'path');
      const queryParams = parameters.filter((p) => p['in'] === 'query');
      const bodySchema = op.definition['requestBody']
        ? resolveRef(spec, op.definition['requestBody'])['content']?.['application/json']?.['schema']
        : undefined;

      const pathValue = (schema: Record<string, any>) =>
        fc.oneof(
          { arbitrary: fc.constantFrom(...knownIds), weight: 3 },
          { arbitrary: fuzzValue(spec, schema).map(asText), weight: 2 },
          { arbitrary: nastyString, weight: 1 },
        );
      const sendsBody = op.method !== 'get';
      const request = fc.record({
        path: fc.tuple(...pathParams.map((p) => pathValue(p['schema'] ?? {}))),
        query: fc.tuple(...queryParams.map((p) => fc.option(fuzzValue(spec, p['schema'] ?? {}), { nil: undefined }))),
        body: !sendsBody
          ? fc.constant(undefined)
          : bodySchema
            ? fc.option(fuzzValue(spec, bodySchema), { nil: undefined, freq: 8 })
            : fc.option(junk, { nil: undefined, freq: 4 }),
        token: fc.constantFrom(...tokens),
      });

      await fc.assert(
        fc.asyncProperty(request, async ({ path, query, body, token }) => {
          let url = op.path;
          pathParams.forEach((p, i) => (url = url.replace(`{${p['name']}}`, percentEncode(String(path[i])))));
          const search = new URLSearchParams();
          queryParams.forEach((p, i) => {
            const v = query[i];
            if (v !== undefined) search.append(p['name'], typeof v === 'object' ? JSON.stringify(v) : String(v));
          });
          const headers: Record<string, string> = {};
          if (token) headers['authorization'] = `Bearer ${token}`;
          if (body !== undefined) headers['content-type'] = 'application/json';
          const response = await fetch(`${central().url}${url}${search.size ? `?${search}` : ''}`, {
            method: op.method.toUpperCase(),
            headers,
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          const text = await response.text();
          if (response.ok) succeeded.add(op.operationId);
          assert.ok(response.status < 500, `${op.method.toUpperCase()} ${url} → ${response.status}: ${text}`);
          const pathname = new URL(`${central().url}${url}`).pathname;
          const problems = specValidator.check(op.method, pathname, response.status, response.headers.get('content-type'), text);
          assert.deepEqual(problems, []);
        }),
        { numRuns: runsPerOperation },
      );
    });
  }

  after(() => {
    // How deep the fuzzing got (operations that need a secret — a password, a code — rarely succeed).
    const all = specOperations().length;
    console.log(`      fuzzed inputs got through (2xx) on ${succeeded.size} of ${all} operations`);
  });
});
