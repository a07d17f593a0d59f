import { creditLegCommand, type HoldActionCommand, transferCommand } from '../domain/commands.js';
import { type Transfer, TransferStatus } from '../domain/ledger.js';
import { expireRequestId } from '../domain/planner.js';
import type { CommandQueue } from '../ports/command-queue.js';
import type { PendingTransfers } from '../ports/ledger-store.js';
import type { CommandSender } from './ledger-service.js';

export interface ReconcileOptions {
  /** This region; with `homesOf`, only transfers debiting accounts homed here are handled here. */
  readonly region?: string;
  readonly homesOf?: (accountIds: readonly string[]) => Promise<ReadonlyMap<string, string>>;
  /** Sends late credit legs to the credit account's home region. */
  readonly sender?: CommandSender;
}

/** A transfer ACCEPTED for longer than this is presumed missing from the stream and re-enqueued. */
export const RECONCILE_GRACE_MS_DEFAULT = 60_000;
/** Transfers handled per kind per run: one PutRecords call each at most. */
export const RECONCILE_BATCH_MAX = 200;

export interface ReconcileResult {
  readonly found: number;
  readonly reenqueued: number;
  readonly holdsExpiring: number;
  /** Cross-region transfers whose credit leg was sent again. */
  readonly creditsResent: number;
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
    private readonly options: ReconcileOptions = {},
  ) {}

  /** Only the home region of a transfer's debit account looks after it (one writer per item). */
  private async homedHere(transfers: readonly Transfer[]): Promise<Transfer[]> {
    const { homesOf, region } = this.options;
    if (homesOf === undefined || region === undefined) return [...transfers];
    const homes = await homesOf([...new Set(transfers.map((t) => t.debitAccountId))]);
    return transfers.filter((t) => (homes.get(t.debitAccountId) ?? region) === region);
  }

  async runOnce(): Promise<ReconcileResult> {
    const now = this.now();
    const overdue = await this.homedHere(
      await this.pending.listStale(new Date(now.getTime() - this.graceMs).toISOString(), RECONCILE_BATCH_MAX),
    );
    const stale = overdue.filter((t) => t.status === TransferStatus.ACCEPTED);
    const inFlight = overdue.filter((t) => t.status === TransferStatus.DEBITED);
    let reenqueued = 0;
    let failed = 0;
    let creditsResent = 0;
    if (inFlight.length > 0 && this.options.sender !== undefined) {
      const outcomes = await this.options.sender.send(
        inFlight.map((t) => creditLegCommand(t, this.options.region ?? 'local', now.toISOString())),
      );
      for (const [i, transfer] of inFlight.entries()) {
        if (outcomes[i]?.ok !== true) {
          failed++;
          continue;
        }
        await this.pending.markReenqueued(transfer.id, now.toISOString());
        creditsResent++;
      }
    }
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
    const expired = await this.homedHere(
      await this.pending.listExpiredHolds(now.toISOString(), RECONCILE_BATCH_MAX),
    );
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
    return { found: stale.length, reenqueued, holdsExpiring: expired.length, creditsResent, failed };
  }
}
