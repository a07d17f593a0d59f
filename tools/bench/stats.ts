/**
 * Small, exact statistics for the bench and the load generator. Percentiles use the nearest-rank
 * method (the value at rank ceil(p/100 * n) of the sorted sample): every reported percentile is a
 * value that was actually observed, never an interpolation.
 */

/** Nearest-rank percentile of `values` (need not be sorted). `p` in (0, 100]. NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** The median: the middle value, or the mean of the two middle values of an even sample. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
}

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Count, min, p50, p90, p99, max and mean of a sample (NaN fields when it is empty). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) {
    return {
      count: 0,
      min: Number.NaN,
      p50: Number.NaN,
      p90: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
      mean: Number.NaN,
    };
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return {
    count: values.length,
    min,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max,
    mean: sum / values.length,
  };
}

/** Rounds to `digits` decimals for reports (keeps NaN as null in JSON via the caller). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
