import { zValidator } from '@hono/zod-validator';
import type { Context, Env, Handler, Hono, MiddlewareHandler, TypedResponse } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { H } from 'hono/types';
import type { StatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';
import type * as z from 'zod/mini';
import type { AppEnv } from '../env.js';
import { validationHook } from '../errors.js';

// The route types: what a route declares, in OpenAPI's words, with zod schemas (zod/mini at
// runtime; any zod 4 schema fits). openapi.ts turns the same declarations into the document at
// build time, so the Lambda carries no OpenAPI generator (test/unit/api/bundle.test.ts checks).

/** A zod 4 schema of either API (the ingest's are zod/mini). */
type Schema = z.core.$ZodType;
/** Parameters and headers: one object schema per location, a parameter per key. */
type ObjectSchema = z.core.$ZodObject;

export interface MediaTypeConfig {
  readonly schema: Schema;
}
export interface RequestBodyConfig {
  readonly required?: boolean;
  readonly description?: string;
  readonly content: Readonly<Record<string, MediaTypeConfig>>;
}
export interface ResponseConfig {
  readonly description: string;
  readonly headers?: ObjectSchema;
  readonly content?: Readonly<Record<string, MediaTypeConfig>>;
}

/**
 * A route as data: Hono's method and path (`{id}` for a parameter), OpenAPI's operation fields,
 * the request's schemas by location and the responses by status.
 */
export interface RouteConfig {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly path: string;
  readonly operationId?: string;
  readonly tags?: readonly string[];
  readonly summary?: string;
  readonly description?: string;
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  /** Hono middleware that runs before the validators (body limits, JSON parsing). Not documented. */
  readonly middleware?: H<AppEnv> | readonly H<AppEnv>[];
  readonly request?: {
    readonly params?: ObjectSchema;
    readonly query?: ObjectSchema;
    readonly headers?: ObjectSchema;
    readonly body?: RequestBodyConfig;
  };
  readonly responses: Readonly<Record<number, ResponseConfig>>;
}

type MaybePromise<T> = T | Promise<T>;
/** No validated part: adds nothing to a route's input. */
type Nothing = Record<never, never>;

/** What `c.req.valid(target)` returns for the schema a route declares there. */
type ValidatedPart<R extends RouteConfig, Part extends string, Target extends string> = R['request'] extends {
  readonly [K in Part]: infer S extends Schema;
}
  ? { in: { [K in Target]: z.input<S> }; out: { [K in Target]: z.output<S> } }
  : Nothing;
type ValidatedJson<R extends RouteConfig> = R['request'] extends {
  readonly body: { readonly content: infer C extends Readonly<Record<string, MediaTypeConfig>> };
}
  ? C[keyof C] extends { readonly schema: infer S extends Schema }
    ? { in: { json: z.input<S> }; out: { json: z.output<S> } }
    : Nothing
  : Nothing;
type RouteInput<R extends RouteConfig> = ValidatedPart<R, 'params', 'param'> &
  ValidatedPart<R, 'query', 'query'> &
  ValidatedPart<R, 'headers', 'header'> &
  ValidatedJson<R>;

/** The answers a route declares: a JSON body of its schema for each status (what `c.json` may return). */
type RouteResponse<R extends RouteConfig> = {
  [S in keyof R['responses'] & StatusCode]: R['responses'][S] extends {
    readonly content: infer C extends Readonly<Record<string, MediaTypeConfig>>;
  }
    ? C[keyof C] extends { readonly schema: infer T extends Schema }
      ? TypedResponse<JSONParsed<z.output<T>>, S, 'json'>
      : Response
    : Response;
}[keyof R['responses'] & StatusCode];

/** The handler of a validated route: its validated parts typed, its answers those declared. */
export type RouteHandler<R extends RouteConfig, E extends Env> = Handler<
  E,
  RoutingPath<R['path']>,
  RouteInput<R>,
  MaybePromise<RouteResponse<R>>
>;

/**
 * A route declared as data: method, path, schemas and responses, exactly as the OpenAPI document
 * shows them. The identity: it only keeps the literal types that type the route's handler.
 *
 * @example
 * const getAccount = defineRoute({ method: 'get', path: '/v1/accounts/{id}', request, responses });
 * routes.openapi(getAccount, (c) => c.json(view(c.req.valid('param').id), 200));
 */
export function defineRoute<P extends string, R extends Omit<RouteConfig, 'path'> & { path: P }>(
  route: R,
): R {
  return route;
}

/**
 * Where the route modules put their routes: the app at runtime ({@link appRegistrar}), the
 * OpenAPI document at build time (openapi.ts). One declaration serves both.
 */
export interface RouteRegistrar {
  /**
   * A route validated from its definition before `handler` runs (as @hono/zod-openapi's
   * OpenAPIHono.openapi did): the route's middleware first, then params, query, headers and the
   * JSON body.
   */
  openapi<R extends RouteConfig>(route: R, handler: RouteHandler<R, AppEnv>): void;
  /**
   * A route whose handlers validate the request themselves (the batch, capture, void): `route`
   * only documents it; `handlers` serve it as given.
   */
  raw<R extends RouteConfig>(route: R, ...handlers: H<AppEnv, RoutingPath<R['path']>>[]): void;
}

/** '/v1/accounts/{id}' -> '/v1/accounts/:id' as a type: what types `c.req.param()` in a handler. */
type RoutingPath<P extends string> = P extends `${infer Start}/{${infer Param}}${infer Rest}`
  ? `${Start}/:${Param}${RoutingPath<Rest>}`
  : P;

/** The app's registrar: each route as Hono handlers, validated from its definition. */
export function appRegistrar(app: Hono<AppEnv>): RouteRegistrar {
  return {
    openapi: (route, handler) => {
      app.on(
        [route.method],
        [routingPath(route.path)],
        ...middlewareOf(route),
        ...validatorsOf(route),
        handler,
      );
    },
    raw: (route, ...handlers) => {
      app.on([route.method], [routingPath(route.path)], ...handlers);
    },
  };
}

/** '/v1/accounts/{id}' -> '/v1/accounts/:id' */
function routingPath(path: string): string {
  return path.replaceAll(/\/{(.+?)}/g, '/:$1');
}

function middlewareOf(route: RouteConfig): H<AppEnv>[] {
  const middleware = route.middleware;
  if (middleware === undefined) return [];
  return isList(middleware) ? [...middleware] : [middleware];
}

function isList<T>(value: T | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}

/**
 * The validators after the route's middleware, as OpenAPIHono.openapi (@hono/zod-openapi 1.6) put
 * them; a body of another media type is a programmer error, refused when the app is built.
 */
function validatorsOf(route: RouteConfig): MiddlewareHandler<AppEnv>[] {
  const request = route.request ?? {};
  const where = `${route.method.toUpperCase()} ${route.path}`;
  const validators: MiddlewareHandler<AppEnv>[] = [];
  if (request.query !== undefined) validators.push(zValidator('query', request.query, validationHook));
  if (request.params !== undefined) validators.push(zValidator('param', request.params, validationHook));
  if (request.headers !== undefined) validators.push(zValidator('header', request.headers, validationHook));
  const body = request.body;
  if (body === undefined) return validators;
  const schemas = Object.entries(body.content).map(([mediaType, { schema }]) => {
    if (!isJsonMediaType(mediaType) || !isZod(schema)) {
      throw new Error(`${where}: only zod schemas of JSON media types are validated (${mediaType})`);
    }
    return schema;
  });
  if (schemas.length === 0) return validators;
  validators.push(mediaTypeGate());
  for (const schema of schemas) {
    const validator: MiddlewareHandler<AppEnv> = zValidator('json', schema, validationHook);
    validators.push(body.required === true ? validator : optionalJson(validator));
  }
  return validators;
}

/**
 * 415 unless the content type is JSON (every media type a route declares is: see validatorsOf);
 * without a content type, 415 only if there is a body. An empty content type counts as none.
 */
function mediaTypeGate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const contentType = c.req.header('content-type');
    const refused = contentType ? !JSON_REQUEST.test(contentType) : await hasRequestBody(c);
    if (refused) throw new HTTPException(415, { message: 'Unsupported Media Type' });
    await next();
  };
}

/** A body that is not required: validated when the request says it is JSON, else `{}`. */
function optionalJson(validator: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const contentType = c.req.header('content-type');
    if (contentType && isJsonMediaType(contentType)) return validator(c, next);
    c.req.addValidatedData('json', {});
    await next();
  };
}

/** A content type OpenAPIHono validates as JSON (application/json, application/merge-patch+json, ...). */
function isJsonMediaType(mediaType: string): boolean {
  return /^application\/([a-z-.]+\+)?json/i.test(mediaType);
}
/** A request content type OpenAPIHono accepts for a JSON media type (parameters allowed, nothing else). */
const JSON_REQUEST = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

function isZod(schema: unknown): schema is Schema {
  if (typeof schema !== 'object' || schema === null) return false;
  return ['parse', 'safeParse', 'parseAsync', 'safeParseAsync'].every(
    (method) => typeof (schema as Record<string, unknown>)[method] === 'function',
  );
}

/** Whether a request without a content type still carries bytes (read from a clone: the body stays unread). */
async function hasRequestBody(c: Context<AppEnv>): Promise<boolean> {
  const raw = c.req.raw;
  if (raw.body === null) return false;
  if (raw.bodyUsed) return (await c.req.arrayBuffer()).byteLength > 0;
  const body = raw.clone().body;
  if (body === null) return false;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      if (value.byteLength > 0) return true;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
