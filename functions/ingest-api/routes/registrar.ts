// Types only from @hono/zod-openapi: esbuild erases them, so the Lambda bundle carries neither it nor
// zod-to-openapi (test/unit/api/bundle.test.ts checks). The document is built from the same route
// definitions at build time (openapi.ts).
import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import { zValidator } from '@hono/zod-validator';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { H } from 'hono/types';
import type * as z from 'zod';
import type { AppEnv } from '../env.js';
import { validationHook } from '../errors.js';

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
   * A route validated from its definition before `handler` runs, as OpenAPIHono.openapi does:
   * the route's middleware first, then params, query, headers and the JSON body.
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

/** The app's registrar: each route as Hono handlers, validated as OpenAPIHono would validate it. */
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
  if (route.middleware === undefined) return [];
  return Array.isArray(route.middleware) ? route.middleware : [route.middleware];
}

/**
 * The validators OpenAPIHono.openapi (@hono/zod-openapi 1.6) puts after the route's middleware,
 * for the parts our routes use; anything else is a programmer error, refused when the app is built.
 */
function validatorsOf(route: RouteConfig): MiddlewareHandler<AppEnv>[] {
  const request = route.request ?? {};
  const where = `${route.method.toUpperCase()} ${route.path}`;
  if (request.cookies !== undefined) throw new Error(`${where}: cookie validation is not supported`);
  if (Array.isArray(request.headers)) throw new Error(`${where}: headers must be one zod object`);
  const validators: MiddlewareHandler<AppEnv>[] = [];
  if (request.query !== undefined) validators.push(zValidator('query', request.query, validationHook));
  if (request.params !== undefined) validators.push(zValidator('param', request.params, validationHook));
  if (request.headers !== undefined) validators.push(zValidator('header', request.headers, validationHook));
  const body = request.body;
  if (body === undefined) return validators;
  const schemas = Object.entries(body.content).map(([mediaType, content]) => {
    const schema = content !== undefined && 'schema' in content ? content.schema : undefined;
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

function isZod(schema: unknown): schema is z.ZodType {
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
