import type { MiddlewareHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from './env.js';
import { ApiError, ErrorCode, notFound, renderError, renderPath, validationFailed } from './errors.js';
import { inspectJsonText } from './json-guard.js';
import type { AppLog } from './logging.js';

/** Body limit of every JSON route but the batch. */
export const BODY_BYTES_MAX = 256 * 1024;
/** Body limit of POST /v1/transfers/batch (500 transfers with full metadata fit). */
export const BATCH_BODY_BYTES_MAX = 4 * 1024 * 1024;
/** Refused literals listed for a single request; the batch keeps more to judge each item. */
export const LITERAL_VIOLATIONS_MAX = 20;
export const BATCH_LITERAL_VIOLATIONS_MAX = 2_000;

/** The media types hono's JSON validator parses (anything else it would silently validate as `{}`). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

export interface JsonBodyOptions {
  readonly maxBytes: number;
  /**
   * `reject`: a fractional, exponent or unsafe number literal answers 422 at once.
   * `keep`: they are kept in `parsedBody.violations` for the route to judge (per batch item).
   */
  readonly literals: 'reject' | 'keep';
  /**
   * The body may be left out (capture, void): an empty body, whatever its content type, is kept
   * as `undefined`. A body with any bytes still has to be JSON and say so.
   */
  readonly optional?: boolean;
}

/**
 * The edge of every JSON route, in order: 415 unless the content type is JSON, 413 past
 * `maxBytes` (hono's bodyLimit, then the bytes actually read), 400 unless the bytes are UTF-8
 * JSON, 422 for number literals JSON.parse would have rounded (see json-guard.ts). The parsed value
 * is kept in `parsedBody`; hono's validator re-reads the same (cached) bytes. With `optional`, the
 * media type is judged only once the body turns out not to be empty.
 */
export function jsonBody(options: JsonBodyOptions): MiddlewareHandler<AppEnv> {
  const tooLarge = (): never => {
    throw new ApiError(
      413,
      ErrorCode.PAYLOAD_TOO_LARGE,
      `request body is larger than ${options.maxBytes} bytes`,
    );
  };
  const limit = bodyLimit({ maxSize: options.maxBytes, onError: tooLarge });
  const violationsMax = options.literals === 'reject' ? LITERAL_VIOLATIONS_MAX : BATCH_LITERAL_VIOLATIONS_MAX;
  const unsupported = (): never => {
    throw new ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send the body as application/json');
  };
  return async (c, next) => {
    const contentType = c.req.header('content-type') ?? '';
    const isJson = JSON_MEDIA_TYPE.test(contentType.split(';')[0]?.trim() ?? '');
    if (!isJson && options.optional !== true) unsupported();
    return limit(c, async () => {
      const bytes = await c.req.arrayBuffer();
      if (bytes.byteLength > options.maxBytes) tooLarge();
      if (bytes.byteLength === 0 && options.optional === true) {
        c.set('parsedBody', { value: undefined, violations: [] });
        return next();
      }
      if (!isJson) unsupported();
      const text = decodeUtf8(bytes);
      const value = parseJson(text);
      const scan = inspectJsonText(text, violationsMax);
      // A batch judges literals per item, unless there are too many to attribute them all.
      const rejectNow = options.literals === 'reject' || scan.truncated;
      if (rejectNow && scan.violations.length > 0) {
        throw validationFailed(
          scan.violations.map((v) => ({ path: renderPath(v.path), message: v.message })),
        );
      }
      c.set('parsedBody', { value, violations: scan.violations });
      await next();
    });
  };
}

function decodeUtf8(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new ApiError(400, ErrorCode.MALFORMED_JSON, 'request body is not valid UTF-8', { cause: error });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, ErrorCode.MALFORMED_JSON, 'request body is not valid JSON', { cause: error });
  }
}

/** One access line per request, written after the response is known (errors included). */
export function accessLog(log: AppLog): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const requestId = c.env?.requestContext?.requestId;
    const transferId = c.get('transferId');
    const transferCount = c.get('transferCount');
    log.access({
      method: c.req.method,
      route: matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? '-',
      status: c.res.status,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      ...(requestId === undefined ? {} : { requestId }),
      ...(transferId === undefined ? {} : { transferId }),
      ...(transferCount === undefined ? {} : { transferCount }),
    });
  };
}

interface RouteLike {
  readonly method: string;
  readonly path: string;
}

/**
 * 404 for a path no route has; 405 with Allow for a known path asked with another method. Reads
 * the app's routes once, on the first miss (all routes are registered by then).
 */
export function notFoundOrMethodNotAllowed(routes: () => readonly RouteLike[]): NotFoundHandler<AppEnv> {
  let index: { pattern: RegExp; method: string }[] | undefined;
  return (c) => {
    index ??= routes()
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ pattern: patternOf(r.path), method: r.method.toUpperCase() }));
    const methods = new Set(index.filter((e) => e.pattern.test(c.req.path)).map((e) => e.method));
    if (methods.size === 0) return renderError(c, notFound(`no route for ${c.req.method} ${c.req.path}`));
    if (methods.has('GET')) methods.add('HEAD');
    const allow = [...methods].sort().join(', ');
    return renderError(
      c,
      new ApiError(405, ErrorCode.METHOD_NOT_ALLOWED, `${c.req.method} is not allowed here; use ${allow}`, {
        headers: { Allow: allow },
      }),
    );
  };
}

/** '/v1/accounts/:id' -> /^\/v1\/accounts\/[^/]+$/ */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
