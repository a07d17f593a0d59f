/**
 * Runs a batch's tasks concurrently (at most `concurrency` at once) while keeping, for every key,
 * the input order: a task starts only after every earlier task sharing one of its keys finished.
 * If such a predecessor failed, the task is not run and fails too, so nothing is applied out of
 * order; the redelivery from the first failure replays them in order.
 *
 * @example
 *   // transfers A->B, C->D, B->E: the first two run together, the third waits for the first.
 *   await runOrdered(records, (r) => [r.debit, r.credit], apply, 8);
 */
export async function runOrdered<T>(
  items: readonly T[],
  keysOf: (item: T) => readonly string[],
  task: (item: T) => Promise<void>,
  concurrency: number,
): Promise<boolean[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be >= 1');
  const slots = new Semaphore(concurrency);
  const tails = new Map<string, Promise<boolean>>();
  const runs = items.map((item) => {
    const keys = [...new Set(keysOf(item))];
    const predecessors = keys.flatMap((k) => tails.get(k) ?? []);
    const run = (async (): Promise<boolean> => {
      const ok = await Promise.all(predecessors);
      if (ok.includes(false)) return false;
      await slots.acquire();
      try {
        await task(item);
        return true;
      } catch {
        return false;
      } finally {
        slots.release();
      }
    })();
    for (const k of keys) tails.set(k, run);
    return run;
  });
  return Promise.all(runs);
}

class Semaphore {
  private readonly waiters: (() => void)[] = [];
  private free: number;

  constructor(size: number) {
    this.free = size;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next === undefined) this.free++;
    else next();
  }
}
