import type { Account, JournalPage, Transfer } from '../domain/ledger.js';

export interface RegionStanding {
  readonly region: string;
  readonly status: 'ACTIVE' | 'FENCED';
  readonly successor?: string;
  readonly at: string;
}

/** The operator's view of one region's table replica (the failover command's only port). */
export interface RegionAdmin {
  readonly region: string;
  /** Every account this replica says is homed in `home` (paged scan, bounded by `limit`). */
  listAccountsHomedIn(home: string, limit: number): Promise<readonly Account[]>;
  getAccount(id: string): Promise<Account | undefined>;
  /**
   * Writes `after` in place of `before`, conditioned on the version and home read: 'conflict' when
   * the account moved in between (read again and retry).
   */
  replaceAccount(before: Account, after: Account): Promise<'written' | 'conflict'>;
  /** Transfers not final yet (ACCEPTED, DEBITED, HELD) that debit one of `accountIds` (paged scan). */
  listOpenTransfers(accountIds: ReadonlySet<string>, limit: number): Promise<readonly Transfer[]>;
  /**
   * Stamps the transfer as written now in this replica, if still in `status`: under last writer
   * wins, this copy then outlives any older write of the failed region that arrives later.
   */
  restampTransfer(id: string, status: string): Promise<boolean>;
  /** Transfers that have been applied (they carry appliedEpoch) debiting one of `accountIds` (paged scan). */
  listAppliedTransfers(accountIds: ReadonlySet<string>, limit: number): Promise<readonly Transfer[]>;
  /** An account's journal pages, oldest first (bounded). */
  listPages(accountId: string, limit: number): Promise<readonly JournalPage[]>;
  /**
   * Puts the transfer back to ACCEPTED (its request and fingerprint kept, revision + 1), if still at
   * the revision read: its home applies it again.
   */
  resetToAccepted(transfer: Transfer): Promise<boolean>;
  getStanding(region: string): Promise<RegionStanding | undefined>;
  putStanding(standing: RegionStanding): Promise<void>;
  /** Writes a probe item here; `seesProbe` on another replica tells when replication delivered it. */
  writeProbe(id: string): Promise<void>;
  seesProbe(id: string): Promise<boolean>;
}

/**
 * A region's writers: its consumer's event source mapping and its reconciler's schedule. The failover
 * switches them off in the failed region (so that when it answers again it writes nothing before
 * replication caught up), the failback back on. Returns what it did, for the operator.
 */
export interface RegionWriters {
  setWriters(region: string, enabled: boolean): Promise<string>;
}
