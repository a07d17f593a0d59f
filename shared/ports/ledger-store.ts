import type { Account, StatementEntry, Transfer, TransferRequest } from '../domain/ledger.js';
import type { LedgerState, WriteSet } from '../domain/planner.js';

/** Reads for the API: the local replica, strongly consistent within the region. */
export interface LedgerReader {
  getAccount(id: string): Promise<Account | undefined>;
  getTransfer(id: string): Promise<Transfer | undefined>;
  /** Newest first. The cursor is opaque to callers. */
  listStatement(accountId: string, page: StatementPageRequest): Promise<StatementPage>;
}

export interface StatementPageRequest {
  readonly limit: number;
  readonly cursor?: string;
  /** The account as the caller already read it (its forks say which pages are void); else read here. */
  readonly account?: Pick<Account, 'forks'>;
}
export interface StatementPage {
  readonly entries: readonly StatementEntry[];
  readonly nextCursor: string | null;
}

export type RecordAcceptedResult =
  | { readonly created: true; readonly transfer: Transfer }
  | { readonly created: false; readonly existing: Transfer };

/** The ingest side's only write: a transfer's ACCEPTED record, created once per id. */
export interface TransferRecorder {
  recordAccepted(
    request: TransferRequest,
    fingerprint: string,
    acceptedAt: string,
  ): Promise<RecordAcceptedResult>;
}

export type CommitResult = 'committed' | 'conflict';

/** The consumer's side: a consistent read, and an all-or-nothing conditional write of a plan. */
export interface LedgerStateStore {
  readState(ids: {
    readonly accounts: Iterable<string>;
    readonly transfers: Iterable<string>;
    /** Credit legs, by transfer id. */
    readonly legs?: Iterable<string>;
  }): Promise<LedgerState>;
  /**
   * Writes every change at once, conditioned on the versions and revisions read. 'conflict' means
   * something moved since the read (or the write was throttled): read again and plan again.
   */
  commit(writes: WriteSet): Promise<CommitResult>;
}

export interface DeadLetter {
  readonly source: string;
  readonly reason: string;
  readonly recordId: string;
  readonly partitionKey: string;
  /** base64 of the record's bytes, cut to a bounded size. */
  readonly data: string;
}

export interface DeadLetterSink {
  /** Idempotent per recordId: a redelivered dead letter is stored once. */
  put(letter: DeadLetter): Promise<void>;
}

/** Transfers needing the scheduler's attention: stale ACCEPTED ones and holds past their timeout. */
export interface PendingTransfers {
  listStale(olderThan: string, limit: number): Promise<readonly Transfer[]>;
  markReenqueued(id: string, at: string): Promise<void>;
  listExpiredHolds(now: string, limit: number): Promise<readonly Transfer[]>;
}
