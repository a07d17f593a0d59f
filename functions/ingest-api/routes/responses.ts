import * as z from 'zod/mini';
import { ErrorBody } from '../schemas.js';

/** What each error status means on this API (the OpenAPI response descriptions). */
const ERROR_DESCRIPTIONS = {
  400: 'Malformed JSON (`malformed_json`) or a cursor this service did not issue (`invalid_cursor`)',
  404: 'No such resource (`not_found`)',
  409: 'The id exists with a different request (`idempotency_conflict`)',
  413: 'Body too large (`payload_too_large`)',
  415: 'Body is not application/json (`unsupported_media_type`)',
  422: 'Invalid request; `details` lists each field (`validation_failed`)',
  500: 'Unexpected error (`internal_error`); logged without the request, safe to retry with the same id',
  503: 'Briefly unavailable; retry the same request after Retry-After (`service_unavailable`)',
} as const;
/** Location values: a route and an identifier of at most 64 characters. */
const LOCATION_LENGTH_MAX = 128;
/** Retry-After is a few seconds (errors.ts RETRY_AFTER_SECONDS); documented with a generous ceiling. */
const RETRY_AFTER_SECONDS_MAX = 3_600;
type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

const errorContent = { 'application/json': { schema: ErrorBody } };
const RetryAfterHeader = z.object({
  'Retry-After': z.number().check(
    z.int(),
    z.minimum(1),
    z.meta({
      description: 'Seconds to wait before retrying',
      format: 'int32',
      maximum: RETRY_AFTER_SECONDS_MAX,
    }),
  ),
});

const PreferenceApplied = z.string().check(
  z.meta({
    description: "wait=N when the request's `Prefer: wait=N` was honoured (N as applied, at most 10)",
    example: 'wait=5',
    maxLength: 16,
  }),
);

/** Response headers are documented only: the function writes them itself. */
const locationHeader = (description: string) =>
  z.string().check(z.meta({ description, maxLength: LOCATION_LENGTH_MAX }));

export function jsonResponse<T extends z.ZodMiniType>(description: string, schema: T) {
  return { description, content: { 'application/json': { schema } } };
}

/** A JSON response that also carries a Location header. */
export function jsonResponseWithLocation<T extends z.ZodMiniType>(
  description: string,
  schema: T,
  location: string,
) {
  const headers = z.object({ Location: locationHeader(location) });
  return { ...jsonResponse(description, schema), headers };
}

/** A JSON response of a route that honours `Prefer: wait=N`, with Location when `location` is given. */
export function waitableResponse<T extends z.ZodMiniType>(description: string, schema: T, location?: string) {
  const headers = z.object({
    ...(location === undefined ? {} : { Location: locationHeader(location) }),
    'Preference-Applied': z.optional(PreferenceApplied),
  });
  return { ...jsonResponse(description, schema), headers };
}

/** One error response with a route-specific description (e.g. which 409 codes a route answers). */
export function errorResponse<S extends ErrorStatus>(status: S, description: string) {
  return { [status]: { description, content: errorContent } } as Record<
    S,
    { description: string; content: typeof errorContent }
  >;
}

/** Error responses for a route (and 500, which any route may answer), all referencing the one Error schema. */
export function errorResponses<S extends Exclude<ErrorStatus, 500>>(...statuses: S[]) {
  const responses = {} as Record<
    S | 500,
    { description: string; content: typeof errorContent; headers?: typeof RetryAfterHeader }
  >;
  for (const status of [...statuses, 500 as const]) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status],
      content: errorContent,
      ...(status === 503 ? { headers: RetryAfterHeader } : {}),
    };
  }
  return responses;
}

/** A body that may be left out entirely; when sent, it is JSON (see `optional` in jsonBody). */
export function optionalJsonRequest<T extends z.ZodMiniType>(schema: T, description: string) {
  return { required: false, description, content: { 'application/json': { schema } } };
}

/** The body of a JSON route as documented (the jsonBody middleware enforces the media type). */
export function jsonRequest<T extends z.ZodMiniType>(schema: T, description?: string) {
  return {
    required: true,
    content: { 'application/json': { schema } },
    ...(description === undefined ? {} : { description }),
  };
}
