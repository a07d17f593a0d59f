/**
 * The open-loop clock of the load generator: request `n` (0-based) is due at
 * `start + n * 1000 / rate` whatever happened to the earlier ones, so a slow server meets the
 * offered rate instead of slowing the client down (no coordinated omission). In-flight requests are
 * bounded: a request that comes due while `maxInFlight` are outstanding is dropped and counted, never
 * queued. Pure: the caller owns the clock and the sockets.
 */

export interface OpenLoopOptions {
  /** Requests per second offered. */
  readonly rate: number;
  readonly durationMs: number;
  readonly maxInFlight: number;
}

export interface Release {
  /** Sequence numbers to send now, each with the time it was due (latency is measured from it). */
  readonly send: readonly { readonly seq: number; readonly dueMs: number }[];
  /** Requests that came due while the in-flight bound was reached. */
  readonly dropped: number;
}

/** Requests in a run: one per 1/rate seconds over the duration. */
export function plannedCount(rate: number, durationMs: number): number {
  return Math.floor((rate * durationMs) / 1000);
}

/** Due time of request `seq`. */
export function dueTime(startMs: number, rate: number, seq: number): number {
  return startMs + (seq * 1000) / rate;
}

/** How many requests are due by `nowMs` (request 0 is due at `startMs`), at most `total`. */
export function dueBy(startMs: number, rate: number, nowMs: number, total: number): number {
  if (nowMs < startMs) return 0;
  return Math.min(total, Math.floor(((nowMs - startMs) * rate) / 1000) + 1);
}

export class OpenLoopScheduler {
  readonly planned: number;
  private released = 0;
  private droppedTotal = 0;

  constructor(
    private readonly options: OpenLoopOptions,
    private readonly startMs: number,
  ) {
    if (!(options.rate > 0)) throw new RangeError('rate must be positive');
    if (!(options.durationMs > 0)) throw new RangeError('duration must be positive');
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new RangeError('maxInFlight must be an integer >= 1');
    }
    this.planned = plannedCount(options.rate, options.durationMs);
  }

  /** Releases every request due by `nowMs`: sends while fewer than maxInFlight are out, drops the rest. */
  tick(nowMs: number, inFlight: number): Release {
    const due = dueBy(this.startMs, this.options.rate, nowMs, this.planned);
    const send: { seq: number; dueMs: number }[] = [];
    let dropped = 0;
    let outstanding = inFlight;
    for (let seq = this.released; seq < due; seq++) {
      if (outstanding < this.options.maxInFlight) {
        send.push({ seq, dueMs: dueTime(this.startMs, this.options.rate, seq) });
        outstanding++;
      } else {
        dropped++;
      }
    }
    this.released = Math.max(this.released, due);
    this.droppedTotal += dropped;
    return { send, dropped };
  }

  /** Every planned request has been sent or dropped. */
  get done(): boolean {
    return this.released >= this.planned;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Requests still to come due (the schedule's own backlog, not the server's). */
  get remaining(): number {
    return this.planned - this.released;
  }

  /** When the next request is due (undefined when done). */
  nextDueMs(): number | undefined {
    return this.done ? undefined : dueTime(this.startMs, this.options.rate, this.released);
  }
}

/** Whether the n-th accepted transfer (0-based) is followed to its final status, one in `every`. */
export function isSampled(acceptedIndex: number, every: number): boolean {
  return every >= 1 && acceptedIndex % every === 0;
}

/** Delay before the k-th poll (0-based) of a followed transfer: doubling from `firstMs` up to `capMs`. */
export function pollDelayMs(k: number, firstMs: number, capMs: number): number {
  return Math.min(capMs, firstMs * 2 ** Math.min(k, 20));
}
