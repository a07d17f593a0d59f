import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dueBy,
  dueTime,
  isSampled,
  OpenLoopScheduler,
  plannedCount,
  pollDelayMs,
} from '../../../tools/load/scheduler.js';

describe('open-loop clock', () => {
  it('plans one request per 1/rate seconds and dates each from the start', () => {
    expect(plannedCount(50, 10_000)).toBe(500);
    expect(plannedCount(0.5, 3_000)).toBe(1);
    expect(dueTime(1_000, 50, 0)).toBe(1_000);
    expect(dueTime(1_000, 50, 10)).toBe(1_200);
  });

  it('counts the requests due by a time, request 0 at the start, capped at the plan', () => {
    expect(dueBy(1_000, 10, 999, 100)).toBe(0);
    expect(dueBy(1_000, 10, 1_000, 100)).toBe(1);
    expect(dueBy(1_000, 10, 1_099, 100)).toBe(1);
    expect(dueBy(1_000, 10, 1_100, 100)).toBe(2);
    expect(dueBy(1_000, 10, 1_000_000, 100)).toBe(100);
  });
});

describe('OpenLoopScheduler', () => {
  it('releases requests on the clock whatever the responses (no waiting for replies)', () => {
    const s = new OpenLoopScheduler({ rate: 100, durationMs: 1_000, maxInFlight: 1_000 }, 0);
    // Nothing ever completes, yet every tick releases what is due.
    let inFlight = 0;
    const sent: number[] = [];
    for (let t = 0; t <= 1_000; t += 50) {
      const r = s.tick(t, inFlight);
      inFlight += r.send.length;
      sent.push(...r.send.map((x) => x.seq));
    }
    expect(sent).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(s.done).toBe(true);
    expect(s.dropped).toBe(0);
  });

  it('gives each released request the time it was due, not the tick time', () => {
    const s = new OpenLoopScheduler({ rate: 10, durationMs: 1_000, maxInFlight: 10 }, 5_000);
    const r = s.tick(5_250, 0);
    expect(r.send).toEqual([
      { seq: 0, dueMs: 5_000 },
      { seq: 1, dueMs: 5_100 },
      { seq: 2, dueMs: 5_200 },
    ]);
  });

  it('drops (and counts) what comes due while the in-flight bound is reached; never queues it', () => {
    const s = new OpenLoopScheduler({ rate: 10, durationMs: 1_000, maxInFlight: 2 }, 0);
    const first = s.tick(450, 0);
    expect(first.send.map((x) => x.seq)).toEqual([0, 1]);
    expect(first.dropped).toBe(3);
    // Later the slots free up: only newly due requests are sent, the dropped ones are gone.
    const second = s.tick(650, 0);
    expect(second.send.map((x) => x.seq)).toEqual([5, 6]);
    expect(s.dropped).toBe(3);
    expect(s.remaining).toBe(3);
  });

  it('accounts for every planned request exactly once (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 25 })), {
          maxLength: 60,
        }),
        (rate, durationMs, maxInFlight, steps) => {
          const s = new OpenLoopScheduler({ rate, durationMs, maxInFlight }, 0);
          let now = 0;
          let sent = 0;
          for (const [advance, inFlight] of [...steps, [durationMs + 1_000, 0] as [number, number]]) {
            now += advance;
            const outstanding = Math.min(inFlight, maxInFlight);
            const r = s.tick(now, outstanding);
            // Never more out at once than the bound.
            expect(outstanding + r.send.length).toBeLessThanOrEqual(maxInFlight);
            sent += r.send.length;
          }
          expect(sent + s.dropped).toBe(s.planned);
          expect(s.done).toBe(true);
        },
      ),
    );
  });

  it('refuses a non-positive rate or duration and a bound below one', () => {
    expect(() => new OpenLoopScheduler({ rate: 0, durationMs: 1, maxInFlight: 1 }, 0)).toThrow(RangeError);
    expect(() => new OpenLoopScheduler({ rate: 1, durationMs: 0, maxInFlight: 1 }, 0)).toThrow(RangeError);
    expect(() => new OpenLoopScheduler({ rate: 1, durationMs: 1, maxInFlight: 0 }, 0)).toThrow(RangeError);
  });
});

describe('sampling and polling', () => {
  it('follows one accepted transfer in `every`, none when every is 0', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((i) => isSampled(i, 5))).toEqual([0, 5, 10]);
    expect(isSampled(0, 0)).toBe(false);
  });

  it('doubles the poll delay up to its cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((k) => pollDelayMs(k, 100, 1_000))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(pollDelayMs(10_000, 100, 2_000)).toBe(2_000);
  });
});
