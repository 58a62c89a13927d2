/**
 * Routes typed from the generated API types. A route names its spec path and method; its input
 * schemas, its handler's input and its replies are all typed from `paths[path][method]`, so a route
 * that does not do what the spec says does not compile.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { paths } from '../client/schema.ts';
import type { Permission, Requirement } from '../auth/permissions.ts';
import type { Principal } from '../auth/principal.ts';
import type { Locale } from '../errors.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type ApiPath = keyof paths;
export type MethodOf<P extends ApiPath> = {
  [M in HttpMethod]: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[HttpMethod];
export type Operation<P extends ApiPath, M extends MethodOf<P>> = NonNullable<paths[P][M]>;

type JsonContent<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Defined<T> = [Exclude<T, undefined>] extends [never] ? undefined : Exclude<T, undefined>;

export type ParamsOf<O> = O extends { parameters: { path?: infer P } } ? Defined<P> : undefined;
export type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Defined<Q> : undefined;
export type BodyOf<O> = O extends { requestBody?: infer RB } ? Defined<JsonContent<NonNullable<RB>>> : undefined;

type SuccessStatus = 200 | 201 | 202 | 204;
/** The replies a handler may give: the spec's 2xx statuses with their bodies. */
export type ReplyOf<O> = O extends { responses: infer R }
  ? {
      [S in keyof R & SuccessStatus]: R[S] extends { content: { 'application/json': infer B } }
        ? { readonly status: S; readonly body: B }
        : { readonly status: S; readonly body?: undefined };
    }[keyof R & SuccessStatus]
  : never;

type Schema<T> = z.ZodType<T, unknown>;
type InputSchemas<O> = (ParamsOf<O> extends undefined ? { readonly params?: undefined } : { readonly params: Schema<ParamsOf<O>> }) &
  (QueryOf<O> extends undefined ? { readonly query?: undefined } : { readonly query: Schema<QueryOf<O>> }) &
  (BodyOf<O> extends undefined ? { readonly body?: undefined } : { readonly body: Schema<BodyOf<O>> });

export interface RequestContext<R extends Requirement> {
  /** The caller; null only on `public` routes called without a token. */
  readonly principal: R extends 'public' ? Principal | null : Principal;
  readonly request: FastifyRequest;
  /**
   * For a handler that sends a file itself, streamed (a report export):
   * `stream((reply) => sendExport(reply, …))`; it then returns its status without a body.
   */
  readonly stream: (send: (reply: FastifyReply) => unknown) => void;
  readonly locale: Locale;
}

export interface Input<O> {
  readonly params: ParamsOf<O>;
  readonly query: QueryOf<O>;
  readonly body: BodyOf<O>;
}

export type RouteSpec<P extends ApiPath, M extends MethodOf<P>, R extends Requirement> = {
  readonly path: P;
  readonly method: M;
  /** From the one permission table; the authorization matrix test holds every route to it. */
  readonly permission: R;
  /**
   * A cinema-scoped route: the principal must be allowed to act for this cinema (checked after
   * validation, before the handler). Routes whose cinema is found indirectly call `requireCinema`.
   */
  readonly cinemaOf?: (input: Input<Operation<P, M>>) => string;
  /** Counts against the login rate limit (credential-guessing endpoints). */
  readonly rateLimited?: boolean;
  /** A larger (or smaller) body limit than the service's `bodyLimitBytes`, e.g. for sync batches. */
  readonly bodyLimitBytes?: number;
  readonly handler: (input: Input<Operation<P, M>>, ctx: RequestContext<R>) => Promise<ReplyOf<Operation<P, M>>>;
} & InputSchemas<Operation<P, M>>;

/** A route as the server registers it (types erased). */
export interface Route {
  readonly path: string;
  readonly method: HttpMethod;
  readonly permission: Requirement;
  readonly params?: z.ZodType | undefined;
  readonly query?: z.ZodType | undefined;
  readonly body?: z.ZodType | undefined;
  readonly rateLimited?: boolean | undefined;
  readonly bodyLimitBytes?: number | undefined;
  readonly cinemaOf?: ((input: never) => string) | undefined;
  readonly handler: (input: never, ctx: never) => Promise<{ status: number; body?: unknown }>;
}

export function defineRoute<P extends ApiPath, M extends MethodOf<P>, R extends Requirement>(spec: RouteSpec<P, M, R>): Route {
  return spec as unknown as Route;
}

export type { Permission };
