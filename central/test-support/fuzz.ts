/**
 * fast-check arbitraries from the spec's JSON Schemas: values that mostly fit the schema (so they
 * reach deep into the handlers: uniqueness, references, state), and, mixed in, values that break it
 * in one place, and plain junk. Used by the fuzz test for every operation.
 */
import fc from 'fast-check';
import { resolveRef, type OpenApiDocument } from './spec-validator.ts';

type Schema = Record<string, any>;

/** Strings that have broken servers before. */
const nastyStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\uffff',
  '💥🎬',
  '影院',
  "'; drop table users; --",
  '../../etc/passwd',
  '%00',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'null',
  'x'.repeat(5000),
  '-1',
  '1e400',
  'NaN',
];

export const nastyString = fc.oneof(fc.constantFrom(...nastyStrings), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

const nastyNumber = fc.oneof(
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER + 2),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, for replacing a field or a whole body. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A value shaped by `schema`, usually valid. */
export function arbitraryFor(spec: OpenApiDocument, schemaOrRef: Schema, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolveRef<Schema>(spec, schemaOrRef);
  if (depth > 6) return junk;
  if ('const' in schema) return fc.constant(schema['const']);
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(schema[key])) return fc.oneof(...(schema[key] as Schema[]).map((s) => arbitraryFor(spec, s, depth + 1)));
  }
  if (schema['$ref'] === undefined && schema['allOf']) return arbitraryFor(spec, schema['allOf'][0], depth + 1);
  const types: string[] = Array.isArray(schema['type']) ? schema['type'] : schema['type'] ? [schema['type']] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => arbitraryFor(spec, { ...schema, type }, depth + 1)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = schema['minimum'] ?? -1_000_000;
      const max = schema['maximum'] ?? 1_000_000;
      return fc.integer({ min, max });
    }
    case 'number':
      return fc.double({ min: schema['minimum'] ?? -1e6, max: schema['maximum'] ?? 1e6, noNaN: true });
    case 'string':
      return stringFor(schema);
    case 'array': {
      const item = arbitraryFor(spec, schema['items'] ?? {}, depth + 1);
      const options = { minLength: schema['minItems'] ?? 0, maxLength: Math.min(schema['maxItems'] ?? 5, 5) };
      return schema['uniqueItems'] ? fc.uniqueArray(item, { ...options, selector: (v) => JSON.stringify(v) }) : fc.array(item, options);
    }
    case 'object':
    default: {
      const properties: Record<string, Schema> = schema['properties'] ?? {};
      if (types[0] !== 'object' && Object.keys(properties).length === 0) return junk;
      const required: string[] = schema['required'] ?? [];
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, sub] of Object.entries(properties)) record[name] = arbitraryFor(spec, sub, depth + 1);
      const minProperties: number = schema['minProperties'] ?? 0;
      return fc
        .record(record, { requiredKeys: required.filter((k) => k in record) })
        .filter((value) => Object.keys(value).length >= minProperties);
    }
  }
}

function stringFor(schema: Schema): fc.Arbitrary<string> {
  if (schema['format'] === 'uuid') return fc.uuid({ version: 7 });
  if (schema['format'] === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema['format'] === 'date') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
  if (typeof schema['pattern'] === 'string') return fc.stringMatching(new RegExp(schema['pattern']));
  return fc.string({ minLength: schema['minLength'] ?? 0, maxLength: Math.min(schema['maxLength'] ?? 30, 30) });
}

/** Usually a fitting value, sometimes one field broken, sometimes junk. */
export function fuzzValue(spec: OpenApiDocument, schema: Schema): fc.Arbitrary<unknown> {
  const fitting = arbitraryFor(spec, schema);
  const broken = fc.tuple(fitting, fc.string({ maxLength: 12 }), junk).map(([value, key, bad]) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const target = keys.length > 0 && key.length % 2 === 0 ? keys[key.length % keys.length]! : key;
      return { ...value, [target]: bad };
    }
    return bad;
  });
  return fc.oneof({ arbitrary: fitting, weight: 5 }, { arbitrary: broken, weight: 2 }, { arbitrary: junk, weight: 1 });
}
