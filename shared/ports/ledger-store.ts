import type {
  Account,
  AccountSpec,
  StatementEntry,
  Transfer,
  TransferDecision,
  TransferRequest,
} from '../domain/ledger.js';

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

export type ApplyResult =
  | { readonly status: 'posted' }
  | { readonly status: 'rejected'; readonly reason: string }
  /** Already final (a redelivered record): nothing was written. */
  | { readonly status: 'duplicate' }
  /** Not applicable here (unknown transfer, changed body, wrong region): dead-letter it. */
  | { readonly status: 'unappliable'; readonly reason: string };

/** The consumer's writes. Every method is idempotent under redelivery. */
export interface LedgerWriter {
  /**
   * Applies one transfer exactly once: reads both accounts, asks `decide`, and writes the outcome
   * atomically, conditioned on the versions it read (re-reading on a lost race, bounded).
   */
  applyTransfer(
    request: TransferRequest,
    fingerprint: string,
    decide: (debit: Account | undefined, credit: Account | undefined) => TransferDecision,
  ): Promise<ApplyResult>;
  /** Creates the account at balance 0 if it does not exist. Returns false if it existed already. */
  openAccount(spec: AccountSpec, homeRegion: string, fingerprint: string, at: string): Promise<boolean>;
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
  put(letter: DeadLetter): Promise<void>;
}

/** Transfers recorded ACCEPTED whose stream record may be missing (see the reconciler). */
export interface PendingTransfers {
  listStale(olderThan: string, limit: number): Promise<readonly Transfer[]>;
  markReenqueued(id: string, at: string): Promise<void>;
}
