import { randomUUID } from 'node:crypto';
import {
  type Account,
  epochAt,
  isVoidedByFailover,
  type Transfer,
  TransferStatus,
} from '../domain/ledger.js';
import type { RegionAdmin, RegionWriters } from '../ports/region-admin.js';

/** Accounts re-homed per command at most (a scan of the table; an operator command, bounded). */
export const REHOME_ACCOUNTS_MAX = 1_000_000;
const REHOME_ATTEMPTS_MAX = 8;
/** How long a failback waits for replication to deliver a probe before giving up. */
export const BARRIER_WAIT_MS_DEFAULT = 30_000;
const BARRIER_POLL_MS = 100;
/** Journal pages read per account when checking a void transfer's lines (an operator command, bounded). */
const PAGES_CHECKED_MAX = 100_000;

export interface RehomeReport {
  readonly rehomed: number;
  /** The ids of the accounts moved. */
  readonly moved: ReadonlySet<string>;
  /** Accounts still homed in the old region (kept moving under us); run the command again. */
  readonly failed: readonly string[];
}

export interface FailoverReport extends Omit<RehomeReport, 'moved'> {
  readonly from: string;
  readonly to: string;
  /** Open transfers (ACCEPTED, DEBITED, HELD) of the moved accounts re-stamped in the new home's replica. */
  readonly restamped: number;
  /** What happened to the region's writers (consumer mapping, reconciler rule), if there is a switch. */
  readonly writers?: string;
}

export interface FailoverDeps {
  /** The replica of each region, by region name. */
  readonly admins: ReadonlyMap<string, RegionAdmin>;
  /** Switches a region's consumer and reconciler (AWS); absent in the local simulation. */
  readonly writers?: RegionWriters;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

/**
 * Moves the home of a failed region's accounts to a surviving region, with a fencing epoch:
 *
 * failover(from, to), written in `to`'s replica only (`from` may be unreachable):
 *   1. REGION#from := FENCED (successor `to`): once it reaches `from`, its consumer writes nothing.
 *   2. every account `to` sees homed in `from`: homeRegion := to, epoch + 1, version + 1, and a fork
 *      recording the version at which `to` took over. From then on `to` writes it; `from`'s writes
 *      made after that version (unreplicated when it failed) are void and named by the audit.
 *   3. every open transfer (ACCEPTED, DEBITED, HELD) debiting a moved account is re-stamped in `to`:
 *      its copy there is then newer than anything `from` wrote before it failed, so a late write of
 *      `from` (say, POSTED by a posting that never replicated) cannot replace it; `to`'s reconciler
 *      applies it again, and this time it counts.
 *   4. with a writers switch (AWS): `from`'s consumer mapping and reconciler rule are disabled, best
 *      effort (the failback re-enables them).
 *
 * failback(region, from): gives `region` its accounts back once it has caught up:
 *   1. a replication barrier from -> region (a probe written in `from` must be visible in `region`);
 *   2. in `from`'s replica: every account homed in `from` whose last fork came from `region` moves
 *      back (epoch + 1 again);
 *   3. a barrier again, so `region` sees its accounts before it writes;
 *   4. REGION#region := ACTIVE, written in `region`'s replica: its consumer resumes (on AWS its
 *      mapping and rule are enabled again).
 * Both are idempotent: run again after a partial failure.
 */
export class FailoverService {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: (line: string) => void;

  constructor(private readonly deps: FailoverDeps) {
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.log = deps.log ?? (() => {});
  }

  async failover(from: string, to: string): Promise<FailoverReport> {
    if (from === to) throw new RangeError('failover needs two different regions');
    const target = this.admin(to);
    this.admin(from);
    const at = this.now().toISOString();
    await target.putStanding({ region: from, status: 'FENCED', successor: to, at });
    this.log(`${from} fenced (successor ${to}), written in ${to}`);
    const report = await this.rehome(target, from, to, () => true);
    this.log(`re-homed ${report.rehomed} account(s) from ${from} to ${to}; ${report.failed.length} failed`);
    const restamped = await this.restamp(target, report.moved);
    this.log(`re-stamped ${restamped} open transfer(s) in ${to}`);
    // Last, and best effort: the failed region's control plane may not answer (the data is fenced anyway).
    const writers = await this.switchWriters(from, false);
    return { from, to, rehomed: report.rehomed, failed: report.failed, restamped, ...writers };
  }

  private async switchWriters(region: string, enabled: boolean): Promise<{ writers?: string }> {
    if (this.deps.writers === undefined) return {};
    let writers: string;
    try {
      writers = await this.deps.writers.setWriters(region, enabled);
    } catch (error) {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      writers = `${region}: could not ${enabled ? 'enable' : 'disable'} its writers (${why}); do it when the region answers`;
    }
    this.log(writers);
    return { writers };
  }

  /**
   * Resolves void writes of a fenced region that arrived after its failover (docs/MULTI-REGION.md):
   * for the accounts homed in `region` that were ever re-homed, every transfer whose record says it
   * was applied by a void write is put back to ACCEPTED, and `region`'s reconciler applies it again,
   * where it counts. Only when that is exact: a plain transfer, cross-region debit or hold whose
   * every line on its debit side (and, within one region, on its credit account) is void. Anything
   * else (a capture, a return, a transaction that replicated in part) is listed, not changed.
   */
  async reapply(
    region: string,
  ): Promise<{ readonly reset: readonly string[]; readonly unresolved: readonly string[] }> {
    const admin = this.admin(region);
    const forked = (await admin.listAccountsHomedIn(region, REHOME_ACCOUNTS_MAX)).filter(
      (a) => a.forks !== undefined,
    );
    const accounts = new Map(forked.map((a) => [a.id, a]));
    const reset: string[] = [];
    const unresolved: string[] = [];
    for (const t of await admin.listAppliedTransfers(new Set(accounts.keys()), REHOME_ACCOUNTS_MAX)) {
      if (!isVoidedByFailover(t, accounts.get(t.debitAccountId))) continue;
      if ((await this.onlyVoidLines(admin, t)) && (await admin.resetToAccepted(t))) reset.push(t.id);
      else unresolved.push(t.id);
    }
    this.log(
      `${region}: ${reset.length} void transfer(s) put back to ACCEPTED; ${unresolved.length} left to an operator`,
    );
    return { reset, unresolved };
  }

  /** Whether the transfer may simply be applied again: its state before the void write was ACCEPTED, and none of that write's lines counted. */
  private async onlyVoidLines(admin: RegionAdmin, t: Transfer): Promise<boolean> {
    const fromAccepted =
      (t.status === TransferStatus.HELD && t.holdTimeoutSeconds !== undefined) ||
      ((t.status === TransferStatus.POSTED || t.status === TransferStatus.DEBITED) &&
        t.holdTimeoutSeconds === undefined);
    if (!fromAccepted || t.reversalOf !== undefined || t.groupId !== undefined) return false;
    const sides =
      t.creditRegion === undefined
        ? [t.debitAccountId, t.creditAccountId]
        : [t.debitAccountId, t.clearingAccountId];
    for (const id of sides) {
      if (id === undefined) return false;
      const account = await admin.getAccount(id);
      if (account === undefined) return false;
      for (const page of await admin.listPages(id, PAGES_CHECKED_MAX)) {
        const counted = (page.epoch ?? 1n) === epochAt(account, page.version);
        if (counted && page.lines.some((l) => l.transferId === t.id)) return false;
      }
    }
    return true;
  }

  private async restamp(admin: RegionAdmin, accountIds: ReadonlySet<string>): Promise<number> {
    if (accountIds.size === 0) return 0;
    let restamped = 0;
    for (const t of await admin.listOpenTransfers(accountIds, REHOME_ACCOUNTS_MAX)) {
      if (await admin.restampTransfer(t.id, t.status)) restamped++;
    }
    return restamped;
  }

  async failback(region: string, from: string, waitMs = BARRIER_WAIT_MS_DEFAULT): Promise<FailoverReport> {
    if (region === from) throw new RangeError('failback needs two different regions');
    const current = this.admin(from);
    const returning = this.admin(region);
    await this.barrier(current, returning, waitMs);
    const report = await this.rehome(current, from, region, (a) => a.forks?.at(-1)?.from === region);
    await this.barrier(current, returning, waitMs);
    await returning.putStanding({ region, status: 'ACTIVE', at: this.now().toISOString() });
    this.log(`${region} active again with ${report.rehomed} account(s); ${report.failed.length} failed`);
    const writers = await this.switchWriters(region, true);
    return { from, to: region, rehomed: report.rehomed, failed: report.failed, restamped: 0, ...writers };
  }

  /** Waits until a probe written in `source` is visible in `target` (replication caught up). */
  async barrier(source: RegionAdmin, target: RegionAdmin, waitMs: number): Promise<void> {
    const id = randomUUID();
    await source.writeProbe(id);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (await target.seesProbe(id)) {
        this.log(`replication ${source.region} -> ${target.region} caught up`);
        return;
      }
      await this.sleep(BARRIER_POLL_MS);
    }
    throw new Error(
      `replication ${source.region} -> ${target.region} has not caught up within ${waitMs} ms: nothing changed`,
    );
  }

  private async rehome(
    admin: RegionAdmin,
    from: string,
    to: string,
    select: (a: Account) => boolean,
  ): Promise<RehomeReport> {
    const accounts = (await admin.listAccountsHomedIn(from, REHOME_ACCOUNTS_MAX)).filter(select);
    let rehomed = 0;
    const moved = new Set<string>();
    const failed: string[] = [];
    for (const first of accounts) {
      let account: Account | undefined = first;
      let done = false;
      for (let attempt = 0; attempt < REHOME_ATTEMPTS_MAX && account !== undefined; attempt++) {
        if (account.homeRegion !== from || !select(account)) break;
        if (
          (await admin.replaceAccount(account, rehomedAccount(account, to, this.now().toISOString()))) ===
          'written'
        ) {
          done = true;
          break;
        }
        account = await admin.getAccount(account.id);
      }
      if (done) {
        rehomed++;
        moved.add(first.id);
      } else if (account?.homeRegion === from) failed.push(first.id);
    }
    return { rehomed, moved, failed };
  }

  private admin(region: string): RegionAdmin {
    const admin = this.deps.admins.get(region);
    if (admin === undefined) throw new RangeError(`unknown region ${region}`);
    return admin;
  }
}

/** The account with its home moved: a new epoch, starting at the version this write makes. */
function rehomedAccount(account: Account, to: string, at: string): Account {
  const version = account.version + 1n;
  const epoch = account.epoch + 1n;
  return {
    ...account,
    homeRegion: to,
    epoch,
    version,
    updatedAt: at,
    forks: [...(account.forks ?? []), { epoch, version, from: account.homeRegion, to, at }],
  };
}
