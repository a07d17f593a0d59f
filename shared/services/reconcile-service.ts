import { type HoldActionCommand, transferCommand } from '../domain/commands.js';
import { expireRequestId } from '../domain/planner.js';
import type { CommandQueue } from '../ports/command-queue.js';
import type { PendingTransfers } from '../ports/ledger-store.js';

/** A transfer ACCEPTED for longer than this is presumed missing from the stream and re-enqueued. */
export const RECONCILE_GRACE_MS_DEFAULT = 60_000;
/** Transfers handled per kind per run: one PutRecords call each at most. */
export const RECONCILE_BATCH_MAX = 200;

export interface ReconcileResult {
  readonly found: number;
  readonly reenqueued: number;
  readonly holdsExpiring: number;
  readonly failed: number;
}

/**
 * The scheduled sweep (every minute on AWS, every second locally):
 * - closes the gap between "recorded ACCEPTED" and "in the stream": if the ingest's put failed
 *   after the record was written (the client got a 503, or the function died), it re-enqueues the
 *   transfer, so every ACCEPTED transfer ends final without relying on the client to retry;
 * - expires holds past their timeout by enqueueing an `expire` command in the hold's partition,
 *   so the release is ordered with the account's other commands.
 * Safe at any time: the consumer applies each command once however often it arrives.
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
    const stale = await this.pending.listStale(
      new Date(now.getTime() - this.graceMs).toISOString(),
      RECONCILE_BATCH_MAX,
    );
    let reenqueued = 0;
    let failed = 0;
    if (stale.length > 0) {
      const outcomes = await this.queue.enqueue(
        stale.map((t) => transferCommand(t, t.fingerprint, t.acceptedAt)),
      );
      for (const [i, transfer] of stale.entries()) {
        if (outcomes[i]?.ok !== true) {
          failed++;
          continue;
        }
        await this.pending.markReenqueued(transfer.id, now.toISOString());
        reenqueued++;
      }
    }
    const expired = await this.pending.listExpiredHolds(now.toISOString(), RECONCILE_BATCH_MAX);
    if (expired.length > 0) {
      const commands: HoldActionCommand[] = expired.map((t) => ({
        v: 1,
        type: 'expire',
        transferId: t.id,
        debitAccountId: t.debitAccountId,
        requestId: expireRequestId(t.id),
        requestedAt: now.toISOString(),
      }));
      failed += (await this.queue.enqueue(commands)).filter((o) => !o.ok).length;
    }
    return { found: stale.length, reenqueued, holdsExpiring: expired.length, failed };
  }
}
