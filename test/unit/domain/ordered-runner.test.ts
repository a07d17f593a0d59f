import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runOrdered } from '../../../shared/services/ordered-runner.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 3));

describe('runOrdered', () => {
  it('keeps input order for every key and never exceeds the concurrency bound (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constantFrom('a', 'b', 'c', 'd', 'e')),
          {
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 6 }),
        async (items, concurrency) => {
          const log: number[] = [];
          let running = 0;
          let peak = 0;
          await runOrdered(
            items.map((keys, i) => ({ keys, i })),
            (x) => x.keys,
            async (x) => {
              running++;
              peak = Math.max(peak, running);
              await tick();
              log.push(x.i);
              running--;
            },
            concurrency,
          );
          expect(peak).toBeLessThanOrEqual(concurrency);
          for (const key of ['a', 'b', 'c', 'd', 'e'] as const) {
            const expected = items.flatMap((k, i) => (k.includes(key) ? [i] : []));
            expect(log.filter((i) => items[i]?.includes(key))).toEqual(expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('fails, without running, the later items that share a key with a failed one', async () => {
    const ran: string[] = [];
    const ok = await runOrdered(
      [
        { id: '1', keys: ['a'] },
        { id: '2', keys: ['a', 'b'] },
        { id: '3', keys: ['b'] },
        { id: '4', keys: ['c'] },
      ],
      (x) => x.keys,
      async (x) => {
        ran.push(x.id);
        if (x.id === '1') throw new Error('transient');
      },
      4,
    );
    expect(ok).toEqual([false, false, false, true]);
    expect(ran.sort()).toEqual(['1', '4']);
  });

  it('rejects a non-positive bound', async () => {
    await expect(
      runOrdered(
        [1],
        () => [],
        async () => {},
        0,
      ),
    ).rejects.toThrow(RangeError);
  });
});
