import { setTimeout as sleep } from 'node:timers/promises';

/** Sleeps `ms`, or less when `signal` aborts (then resolves, never rejects). */
export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await sleep(ms, undefined, signal === undefined ? {} : { signal });
  } catch {
    // aborted: the caller checks its signal
  }
}

/** Exponential backoff for the `attempt`-th consecutive failure (1-based): base, 2 base, 4 base... up to cap. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(capMs, baseMs * 2 ** exponent);
}
