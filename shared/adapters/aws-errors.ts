/** SDK error names meaning "busy or briefly away" (throttling, conflicts, server faults, timeouts). */
const TRANSIENT_ERROR_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'TransactionConflictException',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
]);

/** Node network failures: the service is unreachable for now. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/**
 * The one classifier of AWS SDK and network errors: true when retrying later may succeed (and the
 * caller is not at fault). Throttling by name, a network failure by code (on the error or its
 * cause), or anything the SDK itself marks retryable.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown; $retryable?: unknown; cause?: unknown };
  if (typeof e.name === 'string' && TRANSIENT_ERROR_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const cause = e.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'string' && NETWORK_ERROR_CODES.has(cause.code);
}
