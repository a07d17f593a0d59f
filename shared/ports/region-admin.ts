import type { Account, Transfer } from '../domain/ledger.js';

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
  getStanding(region: string): Promise<RegionStanding | undefined>;
  putStanding(standing: RegionStanding): Promise<void>;
  /** Writes a probe item here; `seesProbe` on another replica tells when replication delivered it. */
  writeProbe(id: string): Promise<void>;
  seesProbe(id: string): Promise<boolean>;
}
