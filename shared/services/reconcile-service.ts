import { transferCommand } from '../domain/commands.js';
import type { CommandQueue } from '../ports/command-queue.js';
import type { PendingTransfers } from '../ports/ledger-store.js';

/** A transfer ACCEPTED for longer than this is presumed missing from the stream and re-enqueued. */
export const RECONCILE_GRACE_MS_DEFAULT = 60_000;
/** Transfers re-enqueued per run: one PutRecords call at most. */
export const RECONCILE_BATCH_MAX = 200;

export interface ReconcileResult {
  readonly found: number;
  readonly reenqueued: number;
  readonly failed: number;
}

/**
 * Closes the gap between "recorded ACCEPTED" and "in the stream": if the ingest's put failed after
 * the record was written (the client got a 503, or the function died), this re-enqueues the
 * transfer, so every ACCEPTED transfer ends POSTED or REJECTED without relying on the client to
 * retry. Safe to run at any time: the consumer applies a transfer once however often it arrives.
 */
export class ReconcileService {
  constructor(
    private readonly pending: PendingTransfers,
    private readonly queue: CommandQueue,
    private readonly graceMs: number = RECONCILE_GRACE_MS_DEFAULT,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async runOnce(): Promise<ReconcileResult> {
    const now = this.now();
    const olderThan = new Date(now.getTime() - this.graceMs).toISOString();
    const stale = await this.pending.listStale(olderThan, RECONCILE_BATCH_MAX);
    if (stale.length === 0) return { found: 0, reenqueued: 0, failed: 0 };
    const outcomes = await this.queue.enqueue(
      stale.map((t) => transferCommand(t, t.fingerprint, t.acceptedAt)),
    );
    let reenqueued = 0;
    for (const [i, transfer] of stale.entries()) {
      if (outcomes[i]?.ok !== true) continue;
      await this.pending.markReenqueued(transfer.id, now.toISOString());
      reenqueued++;
    }
    return { found: stale.length, reenqueued, failed: stale.length - reenqueued };
  }
}
