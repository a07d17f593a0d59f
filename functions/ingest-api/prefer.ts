import { WAIT_SECONDS_MAX } from '../../shared/services/ingest-service.js';

/** Characters of a Prefer header read at most: a `wait` preference is a few bytes. */
export const PREFER_HEADER_CHARS_MAX = 1024;

const WAIT_PREFERENCE = /^wait\s*=\s*(?:"(\d+)"|(\d+))$/i;

/**
 * The seconds a `Prefer: wait=N` header asks for (RFC 7240 section 4.3), capped at
 * WAIT_SECONDS_MAX; undefined when there is no wait preference or it is malformed. A preference
 * the server does not understand is ignored, never refused; the first `wait` counts.
 *
 * @example
 * preferredWaitSeconds('respond-async, wait=5') // 5
 * preferredWaitSeconds('wait=60') // 10
 */
export function preferredWaitSeconds(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  for (const preference of header.slice(0, PREFER_HEADER_CHARS_MAX).split(',')) {
    // Parameters after ';' qualify a preference; wait has none.
    const token = (preference.split(';')[0] ?? '').trim();
    if (!/^wait\b/i.test(token)) continue;
    const match = WAIT_PREFERENCE.exec(token);
    const digits = match?.[1] ?? match?.[2];
    return digits === undefined ? undefined : Math.min(Number(digits), WAIT_SECONDS_MAX);
  }
  return undefined;
}
