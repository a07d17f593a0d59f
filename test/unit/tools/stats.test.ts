import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median, percentile, summarize } from '../../../tools/bench/stats.js';

describe('percentile (nearest rank)', () => {
  it('returns the value at rank ceil(p/100 * n) of the sorted sample', () => {
    const sample = [15, 20, 35, 40, 50];
    expect(percentile(sample, 5)).toBe(15);
    expect(percentile(sample, 30)).toBe(20);
    expect(percentile(sample, 40)).toBe(20);
    expect(percentile(sample, 50)).toBe(35);
    expect(percentile(sample, 100)).toBe(50);
  });

  it('does not depend on input order and does not modify the input', () => {
    const sample = [9, 1, 5, 3, 7];
    expect(percentile(sample, 50)).toBe(5);
    expect(sample).toEqual([9, 1, 5, 3, 7]);
  });

  it('p99 of 100 values is the 99th smallest; of 1000 values the 990th', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(thousand, 99)).toBe(990);
  });

  it('is NaN for an empty sample and refuses p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 100.5)).toThrow(RangeError);
  });

  it('always returns an observed value, monotone in p (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.001, max: 100, noNaN: true }),
        fc.double({ min: 0.001, max: 100, noNaN: true }),
        (values, p, q) => {
          const [lo, hi] = p <= q ? [p, q] : [q, p];
          expect(values).toContain(percentile(values, lo));
          expect(percentile(values, lo)).toBeLessThanOrEqual(percentile(values, hi));
        },
      ),
    );
  });
});

describe('median and summarize', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('summarizes count, extremes, percentiles and mean', () => {
    const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s).toEqual({ count: 10, min: 1, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
    expect(summarize([]).count).toBe(0);
    expect(summarize([]).p50).toBeNaN();
  });
});
