import type { Hook } from '@hono/zod-validator';
import type { Context, ErrorHandler, ValidationTargets } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type * as z from 'zod/mini';
import { isTransientAwsError } from '../../shared/adapters/aws-errors.js';
import { InvalidCursorError, TransientLedgerError } from '../../shared/domain/errors.js';
import type { AppEnv } from './env.js';
import type { PathSegment } from './json-guard.js';
import type { AppLog } from './logging.js';
import { type ErrorBody, type ErrorDetail, type ErrorObject, REQUIRED_MESSAGE } from './schemas.js';

/** Every `error.code` the API answers with. */
export const ErrorCode = {
  BAD_REQUEST: 'bad_request',
  MALFORMED_JSON: 'malformed_json',
  INVALID_CURSOR: 'invalid_cursor',
  NOT_FOUND: 'not_found',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  IDEMPOTENCY_CONFLICT: 'idempotency_conflict',
  HOLD_NOT_ACTIVE: 'hold_not_active',
  NOT_A_HOLD: 'not_a_hold',
  TRANSFER_NOT_POSTED: 'transfer_not_posted',
  TRANSFER_NOT_REVERSIBLE: 'transfer_not_reversible',
  ALREADY_REVERSED: 'already_reversed',
  ACCOUNT_NOT_EMPTY: 'account_not_empty',
  ACCOUNT_CLOSED: 'account_closed',
  LIMIT_BELOW_BALANCE: 'limit_below_balance',
  /** A 409 whose code this edge does not know yet (the service added one): never a 500. */
  CONFLICT: 'conflict',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  VALIDATION_FAILED: 'validation_failed',
  INTERNAL_ERROR: 'internal_error',
  SERVICE_UNAVAILABLE: 'service_unavailable',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Details listed in one error body; the rest are dropped (the first ones are enough to fix a request). */
export const ERROR_DETAILS_MAX = 50;
/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;
const PATH_ECHO_CHARS_MAX = 64;

export interface ApiErrorOptions extends ErrorOptions {
  readonly details?: readonly ErrorDetail[];
  readonly headers?: Readonly<Record<string, string>>;
}

/** An HTTP answer in the API's error shape. Thrown by routes and middleware, rendered by onError. */
export class ApiError extends Error {
  readonly details: readonly ErrorDetail[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export function validationFailed(
  details: readonly ErrorDetail[],
  message = 'the request is not valid',
): ApiError {
  return new ApiError(422, ErrorCode.VALIDATION_FAILED, message, {
    details: details.slice(0, ERROR_DETAILS_MAX),
  });
}

export function notFound(message: string): ApiError {
  return new ApiError(404, ErrorCode.NOT_FOUND, message);
}

export function serviceUnavailable(message: string, options: ErrorOptions = {}): ApiError {
  return new ApiError(503, ErrorCode.SERVICE_UNAVAILABLE, message, {
    ...options,
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
  });
}

export function idempotencyConflict(what: string, id: string): ApiError {
  return new ApiError(
    409,
    ErrorCode.IDEMPOTENCY_CONFLICT,
    `${what} ${id} already exists with a different request: use a new id`,
  );
}

/** The 409 codes a service outcome may name (hold actions, reversals, account changes). */
const CONFLICT_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.IDEMPOTENCY_CONFLICT,
  ErrorCode.HOLD_NOT_ACTIVE,
  ErrorCode.NOT_A_HOLD,
  ErrorCode.TRANSFER_NOT_POSTED,
  ErrorCode.TRANSFER_NOT_REVERSIBLE,
  ErrorCode.ALREADY_REVERSED,
  ErrorCode.ACCOUNT_NOT_EMPTY,
  ErrorCode.ACCOUNT_CLOSED,
  ErrorCode.LIMIT_BELOW_BALANCE,
]);

/** A 409 carrying the service's own code (e.g. hold_not_active), or `conflict` for one not listed here. */
export function conflict(code: string, message: string): ApiError {
  const known = CONFLICT_CODES.has(code) ? (code as ErrorCode) : ErrorCode.CONFLICT;
  return new ApiError(409, known, message);
}

/** The error object of the wire shape (also used per item in batch results). */
export function errorObject(error: ApiError): ErrorObject {
  return {
    code: error.code,
    message: error.message,
    ...(error.details === undefined ? {} : { details: [...error.details] }),
  };
}

export function renderError(c: Context<AppEnv>, error: ApiError): Response {
  const body: ErrorBody = { error: errorObject(error) };
  return c.json(body, error.status, { ...error.headers });
}

/**
 * The app's onError: known errors keep their status; anything else is logged (never with the
 * request body) and answered 500 internal_error.
 */
export function errorHandler(log: AppLog): ErrorHandler<AppEnv> {
  return (error, c) => {
    const known = toApiError(error);
    if (known !== undefined) return renderError(c, known);
    log.unexpected(error, { method: c.req.method, path: c.req.path });
    return renderError(c, new ApiError(500, ErrorCode.INTERNAL_ERROR, 'internal error'));
  };
}

function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) return fromHttpException(error);
  if (error instanceof InvalidCursorError) return new ApiError(400, ErrorCode.INVALID_CURSOR, error.message);
  if (error instanceof TransientLedgerError || isTransientAwsError(error)) {
    return serviceUnavailable('the ledger is busy: retry shortly', { cause: error });
  }
  return undefined;
}

/** Hono's own exceptions (validator, media-type gate) in our shape. */
function fromHttpException(error: HTTPException): ApiError {
  const status = error.status as ContentfulStatusCode;
  const byStatus: Partial<Record<number, ErrorCode>> = {
    400: /json/i.test(error.message) ? ErrorCode.MALFORMED_JSON : ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_FAILED,
  };
  const code = byStatus[status] ?? (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.BAD_REQUEST);
  return new ApiError(status, code, error.message || code, { cause: error });
}

/** Dotted path for a details entry; the body root is the empty string. */
export function renderPath(path: readonly PropertyKey[]): string {
  return path.map((p) => echo(String(p))).join('.');
}

/**
 * Zod issues as details entries, with `prefix` before each path (e.g. ['transfers', 3]). Unknown
 * keys get one entry each; duplicates (same path and message) are dropped.
 */
export function issueDetails(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PathSegment[] = [],
): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  const add = (path: readonly PropertyKey[], message: string): void => {
    const detail = { path: renderPath([...prefix, ...path]), message };
    const key = `${detail.path}\u0000${message}`;
    if (seen.has(key) || details.length >= ERROR_DETAILS_MAX) return;
    seen.add(key);
    details.push(detail);
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add([...issue.path, key], 'is not a known field');
    } else if (issue.code === 'invalid_key') {
      add(issue.path, issue.issues[0]?.message ?? issue.message);
    } else {
      add(issue.path, isMissing(issue) ? REQUIRED_MESSAGE : issue.message);
    }
  }
  return details;
}

/** zod reports a missing field as a type error on undefined; say it plainly. */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
}

function echo(s: string): string {
  return s.length > PATH_ECHO_CHARS_MAX ? `${s.slice(0, PATH_ECHO_CHARS_MAX)}…` : s;
}

/** Where a non-body validation target appears in a details path. */
const TARGET_PREFIX: Partial<Record<string, string>> = {
  query: 'query',
  header: 'headers',
  cookie: 'cookies',
};

/**
 * The hook of every route validator (routes/registrar.ts): a failed validation becomes 422
 * validation_failed with one details entry per field. A path parameter that fails its pattern names
 * nothing that can exist: 404.
 */
export const validationHook: Hook<
  unknown,
  AppEnv,
  string,
  keyof ValidationTargets,
  object,
  z.core.$ZodType
> = (result) => {
  if (result.success) return undefined;
  if (result.target === 'param') throw notFound('no such resource');
  const prefix = TARGET_PREFIX[result.target];
  throw validationFailed(issueDetails(result.error.issues, prefix === undefined ? [] : [prefix]));
};
