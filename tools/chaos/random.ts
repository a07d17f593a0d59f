/**
 * A small seeded pseudo-random generator (mulberry32): the chaos run draws every choice from it,
 * so a seed replays the same plan (which faults, which kills, which requests per client). The
 * interleaving of concurrent clients still depends on timing.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** A new generator whose sequence depends on this seed and `salt` (one per client, per round). */
  fork(salt: number): Random {
    return new Random(Math.imul(this.state ^ 0x9e3779b9, 31) + salt * 0x85ebca6b);
  }
}

/** A seed from the clock when the user gave none (printed, so the run can be repeated). */
export function freshSeed(): number {
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}
