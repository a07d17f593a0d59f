import type { AuditTransfer, ReadBudget } from '../domain/audit.js';
import type { Account, JournalPage } from '../domain/ledger.js';

/** An account partition found by the scan; `homeRegion` is undefined when only its pages were seen. */
export interface ScannedAccount {
  readonly id: string;
  readonly homeRegion: string | undefined;
}

export interface ScanResult {
  readonly accounts: readonly ScannedAccount[];
  /** Every transfer item, with its credit leg (same partition) when the scan saw one. */
  readonly transfers: readonly AuditTransfer[];
}

export type PartitionItem =
  | { readonly kind: 'account'; readonly account: Account }
  | { readonly kind: 'page'; readonly page: JournalPage };

/** Read-only whole-table access for the ledger audit. Every read is counted against `budget`. */
export interface LedgerScanner {
  /** Every account partition and every transfer, by a parallel scan of `segments` segments. */
  scan(options: {
    readonly segments: number;
    readonly pageSize: number;
    readonly budget: ReadBudget;
  }): Promise<ScanResult>;
  /**
   * One account partition, strongly consistent, in key order: the account item first (if any), then
   * its journal pages by ascending version; with `afterVersion`, only the pages above that version.
   */
  readPartition(
    accountId: string,
    options: { readonly pageSize: number; readonly budget: ReadBudget; readonly afterVersion?: bigint },
  ): AsyncIterable<PartitionItem>;
  /** Strongly consistent reads of these transfers with their credit legs; absent ids are missing from the map. */
  getTransfers(ids: readonly string[], budget: ReadBudget): Promise<Map<string, AuditTransfer>>;
}
