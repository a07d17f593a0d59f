import { type LedgerCommand, openAccountCommand, transferCommand } from '../domain/commands.js';
import {
  type Account,
  type AccountSpec,
  accountFingerprint,
  type Transfer,
  type TransferRequest,
  TransferStatus,
  transferFingerprint,
} from '../domain/ledger.js';
import type { CommandQueue } from '../ports/command-queue.js';
import type {
  LedgerReader,
  StatementPage,
  StatementPageRequest,
  TransferRecorder,
} from '../ports/ledger-store.js';

/** How long POST /v1/accounts waits for the consumer to open the account before answering 503. */
export const ACCOUNT_OPEN_WAIT_MS = 8_000;
const ACCOUNT_POLL_MS_MIN = 20;
const ACCOUNT_POLL_MS_MAX = 250;
/** Concurrent conditional writes while recording a batch (DynamoDB has no conditional batch put). */
export const RECORD_CONCURRENCY_MAX = 16;

export type SubmitOutcome =
  /** Recorded now and durably in the stream: 202. */
  | { readonly kind: 'accepted'; readonly transfer: Transfer }
  /** The same request again: its current state (202 if still ACCEPTED, re-enqueued; 200 if final). */
  | { readonly kind: 'existing'; readonly transfer: Transfer }
  /** Same id, different body: 409 idempotency_conflict. */
  | { readonly kind: 'conflict'; readonly existing: Transfer }
  /** Recorded, but the stream refused it after bounded retries: 503, retry with the same id. */
  | { readonly kind: 'unavailable'; readonly transfer: Transfer; readonly errorCode: string }
  /** The record itself could not be written (throttled store): 503, nothing recorded or queued. */
  | { readonly kind: 'unrecorded'; readonly id: string; readonly errorCode: string };

export type OpenAccountOutcome =
  | { readonly kind: 'created'; readonly account: Account }
  | { readonly kind: 'existing'; readonly account: Account }
  | { readonly kind: 'conflict'; readonly account: Account }
  /** Not yet opened within the wait (or the stream refused): 503, retry with the same request. */
  | { readonly kind: 'unavailable'; readonly errorCode: string };

export interface IngestDeps {
  readonly reader: LedgerReader;
  readonly recorder: TransferRecorder;
  readonly queue: CommandQueue;
  /** The region that receives the request; new accounts are homed here. */
  readonly region: string;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly accountOpenWaitMs?: number;
}

/**
 * The edge's use cases. A transfer is recorded ACCEPTED first (so GET shows it at once and a
 * different body under the same id is a conflict), then put on the stream; only then is it 202.
 * If the put fails the record stays ACCEPTED: the client's retry re-enqueues it, and so does the
 * reconciler, which re-enqueues ACCEPTED transfers older than a grace period. The consumer applies a
 * transfer once however often it is enqueued.
 */
export class IngestService {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly accountOpenWaitMs: number;

  constructor(private readonly deps: IngestDeps) {
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.accountOpenWaitMs = deps.accountOpenWaitMs ?? ACCOUNT_OPEN_WAIT_MS;
  }

  async submitTransfer(request: TransferRequest): Promise<SubmitOutcome> {
    const [outcome] = await this.submitTransfers([request]);
    if (outcome === undefined) throw new Error('submitTransfers returned no outcome');
    return outcome;
  }

  /** Records each transfer, then enqueues every one that needs it in a single stream call. */
  async submitTransfers(requests: readonly TransferRequest[]): Promise<SubmitOutcome[]> {
    const acceptedAt = this.now().toISOString();
    const recorded = await mapBounded(requests, RECORD_CONCURRENCY_MAX, (r) => this.record(r, acceptedAt));
    const toEnqueue = new Map<string, { command: LedgerCommand; indexes: number[] }>();
    recorded.forEach((outcome, index) => {
      if (outcome.kind === 'conflict' || outcome.kind === 'unrecorded') return;
      if (outcome.transfer.status !== TransferStatus.ACCEPTED) return;
      const id = outcome.transfer.id;
      const slot = toEnqueue.get(id) ?? {
        command: transferCommand(outcome.transfer, outcome.transfer.fingerprint, outcome.transfer.acceptedAt),
        indexes: [],
      };
      slot.indexes.push(index);
      toEnqueue.set(id, slot);
    });
    if (toEnqueue.size === 0) return recorded;
    const slots = [...toEnqueue.values()];
    const results = await this.deps.queue.enqueue(slots.map((s) => s.command));
    const final = [...recorded];
    slots.forEach((slot, i) => {
      const result = results[i];
      if (result === undefined || result.ok) return;
      for (const index of slot.indexes) {
        const outcome = final[index];
        if (outcome?.kind === 'accepted' || outcome?.kind === 'existing') {
          final[index] = { kind: 'unavailable', transfer: outcome.transfer, errorCode: result.errorCode };
        }
      }
    });
    return final;
  }

  async openAccount(spec: AccountSpec): Promise<OpenAccountOutcome> {
    const fingerprint = accountFingerprint(spec);
    const existing = await this.deps.reader.getAccount(spec.id);
    if (existing !== undefined) return compareAccount(existing, fingerprint, 'existing');
    const command = openAccountCommand(spec, this.deps.region, fingerprint, this.now().toISOString());
    const [result] = await this.deps.queue.enqueue([command]);
    if (result === undefined || !result.ok)
      return { kind: 'unavailable', errorCode: result?.errorCode ?? 'NotSent' };
    const opened = await this.waitForAccount(spec.id);
    if (opened === undefined) return { kind: 'unavailable', errorCode: 'AccountNotYetOpen' };
    return compareAccount(opened, fingerprint, 'created');
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.deps.reader.getAccount(id);
  }

  getTransfer(id: string): Promise<Transfer | undefined> {
    return this.deps.reader.getTransfer(id);
  }

  listStatement(accountId: string, page: StatementPageRequest): Promise<StatementPage> {
    return this.deps.reader.listStatement(accountId, page);
  }

  /** One item's record; a store failure is that item's outcome, not the whole batch's. */
  private async record(request: TransferRequest, acceptedAt: string): Promise<SubmitOutcome> {
    const fingerprint = transferFingerprint(request);
    let result: Awaited<ReturnType<TransferRecorder['recordAccepted']>>;
    try {
      result = await this.deps.recorder.recordAccepted(request, fingerprint, acceptedAt);
    } catch (error) {
      return { kind: 'unrecorded', id: request.id, errorCode: (error as Error).name || 'RecordFailed' };
    }
    if (result.created) return { kind: 'accepted', transfer: result.transfer };
    if (result.existing.fingerprint !== fingerprint) return { kind: 'conflict', existing: result.existing };
    return { kind: 'existing', transfer: result.existing };
  }

  /** Polls (bounded by accountOpenWaitMs) until the consumer has opened the account. */
  private async waitForAccount(id: string): Promise<Account | undefined> {
    const deadline = this.now().getTime() + this.accountOpenWaitMs;
    let delay = ACCOUNT_POLL_MS_MIN;
    while (this.now().getTime() < deadline) {
      await this.sleep(delay);
      const account = await this.deps.reader.getAccount(id);
      if (account !== undefined) return account;
      delay = Math.min(ACCOUNT_POLL_MS_MAX, delay * 2);
    }
    return undefined;
  }
}

function compareAccount(
  account: Account,
  fingerprint: string,
  kind: 'created' | 'existing',
): OpenAccountOutcome {
  if (account.fingerprint !== fingerprint) return { kind: 'conflict', account };
  return { kind, account };
}

/** Maps with at most `limit` calls in flight, keeping input order in the result. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
