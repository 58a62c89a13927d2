/**
 * zod schemas tied to the generated API types. `specSchema<T>()(schema)` compiles only when the
 * schema's output and the spec's type `T` are assignable both ways, so a change to
 * `spec/openapi.yaml` that the validation does not follow fails the type-check.
 */
import { z } from 'zod';
import type { FieldProblem } from '../errors.ts';

type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Same type both ways and the same keys (an optional field the schema forgot counts as drift). */
type Matches<A, B> = Mutual<A, B> extends true ? Mutual<keyof A, keyof B> : false;

export function specSchema<T>() {
  return <S extends z.ZodType>(
    schema: S &
      (Matches<z.output<S>, T> extends true
        ? unknown
        : { 'zod schema and spec type differ': { schema: z.output<S>; spec: T } }),
  ): S => schema;
}

/** Text without control characters (PostgreSQL rejects NUL; the rest is never wanted in a name). */
export function text(min: number, max: number) {
  return z
    .string()
    .min(min, min === 1 ? 'must not be empty' : `must have at least ${min} characters`)
    .max(max, `must have at most ${max} characters`)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');
}

export const id = z.uuid({ message: 'must be a UUID' });

/** A calendar day `YYYY-MM-DD` (the spec's `ReportDate`: a day in the chain's time zone). */
export const calendarDay = z.iso.date({ message: 'must be a day like 2025-01-31' });

/** Readable field problems from a zod error, paths prefixed with where the input came from. */
export function fieldProblems(where: 'params' | 'query' | 'body', error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}
