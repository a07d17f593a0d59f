import {
  type AccountAudit,
  AUDIT_CHECKS,
  type AuditCheck,
  type AuditedAccount,
  type AuditLine,
  type AuditTransfer,
  auditLedger,
  auditLineOf,
  CHECK_OF,
  type CurrencyTotal,
  checkTransfer,
  type Difference,
  expectedLinesOf,
  JournalReplay,
  type LedgerFindings,
  ReadBudget,
  settleAudit,
  type TransferFinding,
  voidedStamp,
} from '../domain/audit.js';
import type { TransferStatus } from '../domain/ledger.js';
import type { LedgerScanner } from '../ports/ledger-scanner.js';
import { mapBounded } from './ingest-service.js';

/** Defaults for a run: the CLI's flags and the Lambda's environment override them. */
export const AUDIT_DEFAULTS = {
  /** Parallel Scan segments. */
  segments: 4,
  /** Items per Scan or Query request (DynamoDB also stops a page at 1 MB). */
  pageSize: 1_000,
  /**
   * Items one run may read in all (scan, account reads, re-checks): bounds memory and time. A run keeps
   * every journal line and transfer of the audited accounts in memory: at most 1.2 KB per item read
   * (measured: 142k items read, 170 MB resident in all), so the default fits the auditor Lambda's 1769 MB.
   */
  itemsMax: 1_000_000,
  /** Account partitions read at once. */
  concurrency: 8,
} as const;
export const SEGMENTS_MAX = 64;
export const PAGE_SIZE_MAX = 10_000;
export const CONCURRENCY_MAX = 64;
/** Reads of one account whose snapshot disagrees with itself, before that is a difference. */
export const ACCOUNT_READ_ATTEMPTS_MAX = 3;
/** Rounds of fresh reads of the suspect transfers before they are differences. */
export const RECHECK_ROUNDS_MAX = 3;
const BACKOFF_MS = 200;
/** Settled (in-flight) transfer ids named in a report; the rest are counted. */
export const IN_FLIGHT_NAMED_MAX = 50;

export interface AuditOptions {
  readonly segments: number;
  readonly pageSize: number;
  readonly itemsMax: number;
  readonly concurrency: number;
  /** Audit only the accounts homed in this region (each region audits what it writes). Undefined: all. */
  readonly homeRegion?: string | undefined;
  /** Called with one line per phase (the CLI prints them on stderr). */
  readonly progress?: ((line: string) => void) | undefined;
}

export interface AuditReport {
  /** True when there is no difference. */
  readonly ok: boolean;
  readonly startedAt: string;
  readonly homeRegion: string | null;
  readonly counts: {
    readonly itemsRead: number;
    readonly accounts: number;
    /** Accounts homed in another region (not audited here). */
    readonly accountsElsewhere: number;
    /** Account partitions read again because their first read disagreed with itself. */
    readonly accountRereads: number;
    readonly pages: number;
    readonly lines: number;
    /** Pages newer than their account item when read: after the snapshot. */
    readonly pagesBeyondSnapshot: number;
    /** Pages a fenced region wrote after the failover point: never counted, each named (check 5). */
    readonly voidPages: number;
    readonly transfers: number;
    readonly transfersByStatus: Readonly<Partial<Record<TransferStatus, number>>>;
  };
  readonly currencies: readonly CurrencyTotal[];
  readonly inFlight: {
    /** Transfers whose lines disagreed with them as first read. */
    readonly suspects: number;
    /** Of those, the ones fresh reads showed consistent: they were moving during the scan. */
    readonly settled: number;
    readonly rounds: number;
    readonly settledTransferIds: readonly string[];
  };
  readonly differences: readonly Difference[];
  readonly checks: readonly { readonly check: AuditCheck; readonly differences: number }[];
  readonly timingsMs: {
    readonly scan: number;
    readonly accounts: number;
    readonly recheck: number;
    readonly total: number;
  };
}

interface Recheck {
  readonly settled: Set<string>;
  readonly still: Map<string, TransferFinding>;
  readonly rounds: number;
}

/** What the re-check knows of each account it reads again. */
interface RecheckReads {
  /** The account version read up to (the snapshot's, then the latest page's). */
  readonly seen: Map<string, bigint>;
  /** The account items read, to tell void pages (a fenced region's) from new ones. */
  readonly known: Map<string, AuditedAccount>;
  /** New lines by transfer id. */
  readonly later: Map<string, AuditLine[]>;
  /** Accounts homed in another region; shared with the findings' scope, which it extends. */
  readonly elsewhere: Set<string>;
}

/**
 * The ledger audit, run while traffic flows: scan for accounts and transfers, read each account as
 * one consistent snapshot (JournalReplay), run the checks of `shared/domain/audit.ts`, then re-read
 * the suspect transfers (and the new pages of their accounts) until they agree or the rounds run out.
 * Only what still disagrees after fresh consistent reads is a difference.
 *
 * @example
 * const report = await new AuditService(new DynamoLedgerScanner(client, table), AUDIT_DEFAULTS).run();
 * if (!report.ok) console.log(report.differences);
 */
export class AuditService {
  constructor(
    private readonly scanner: LedgerScanner,
    private readonly options: AuditOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async run(): Promise<AuditReport> {
    const startedAt = this.now();
    const clock = stopwatch();
    const budget = new ReadBudget(this.options.itemsMax);
    const home = this.options.homeRegion;
    this.progress(
      `scanning with ${this.options.segments} segments${home === undefined ? '' : ` (accounts homed in ${home})`}`,
    );
    const scanned = await this.scanner.scan({
      segments: this.options.segments,
      pageSize: this.options.pageSize,
      budget,
    });
    const candidates = scanned.accounts.filter(
      (a) => home === undefined || a.homeRegion === undefined || a.homeRegion === home,
    );
    // Accounts another region writes: a home-scoped audit does not expect lines on them.
    const elsewhere = new Set(
      scanned.accounts
        .filter((a) => home !== undefined && a.homeRegion !== undefined && a.homeRegion !== home)
        .map((a) => a.id),
    );
    const scanMs = clock.lap();
    this.progress(
      `found ${scanned.accounts.length} accounts, ${scanned.transfers.length} transfers; reading ${candidates.length} accounts`,
    );
    const reads = await mapBounded(candidates, this.options.concurrency, (a) =>
      this.readAccount(a.id, budget),
    );
    const audits = reads.flatMap((r) => (r.audit === undefined ? [] : [r.audit]));
    for (const r of reads) if (r.elsewhere) elsewhere.add(r.id);
    const inScope = new Set(audits.map((a) => a.accountId));
    // A transfer concerns this region's audit if one of its accounts is homed here, or if it left a
    // line here (a clearing account that outlived a re-homing of the transfer's accounts).
    const withLines = new Set(audits.flatMap((a) => a.lines.map((l) => l.transferId)));
    const transfers = new Map(
      scanned.transfers
        .filter(
          (t) =>
            home === undefined ||
            inScope.has(t.debitAccountId) ||
            inScope.has(t.creditAccountId) ||
            withLines.has(t.id),
        )
        .map((t) => [t.id, t]),
    );
    const findings = auditLedger(audits, transfers, elsewhere);
    const accountsMs = clock.lap();
    const recheck = await this.recheck(findings, audits, elsewhere, budget);
    const result = settleAudit(findings, recheck.settled, recheck.still);
    const timingsMs = { scan: scanMs, accounts: accountsMs, recheck: clock.lap(), total: clock.total() };
    return {
      ok: result.differences.length === 0,
      startedAt: startedAt.toISOString(),
      homeRegion: home ?? null,
      counts: {
        itemsRead: budget.itemsRead,
        accounts: audits.length,
        accountsElsewhere: scanned.accounts.length - audits.length,
        accountRereads: reads.reduce((n, r) => n + r.reads - 1, 0),
        pages: audits.reduce((n, a) => n + a.pages, 0),
        lines: audits.reduce((n, a) => n + a.lines.length, 0),
        pagesBeyondSnapshot: audits.reduce((n, a) => n + a.pagesBeyondSnapshot, 0),
        voidPages: audits.reduce((n, a) => n + a.voidPages, 0),
        transfers: transfers.size,
        transfersByStatus: countByStatus(transfers.values()),
      },
      currencies: result.currencies,
      inFlight: {
        suspects: findings.transferFindings.size,
        settled: recheck.settled.size,
        rounds: recheck.rounds,
        settledTransferIds: [...recheck.settled].sort().slice(0, IN_FLIGHT_NAMED_MAX),
      },
      differences: result.differences,
      checks: AUDIT_CHECKS.map((check) => ({
        check,
        differences: result.differences.filter((d) => CHECK_OF[d.kind] === check).length,
      })),
      timingsMs,
    };
  }

  /**
   * One account's snapshot; read again (bounded) while it disagrees with itself, which a read racing
   * a write can cause. Undefined for an account homed in another region (`elsewhere`) or empty.
   */
  private async readAccount(
    id: string,
    budget: ReadBudget,
  ): Promise<{ id: string; audit: AccountAudit | undefined; reads: number; elsewhere: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const { audit, elsewhere } = await this.snapshot(id, budget);
      const selfContradicting = audit?.differences.some((d) => CHECK_OF[d.kind] === 2) ?? false;
      if (!selfContradicting || attempt >= ACCOUNT_READ_ATTEMPTS_MAX)
        return { id, audit, reads: attempt, elsewhere };
      await sleep(BACKOFF_MS * attempt);
    }
  }

  private async snapshot(
    id: string,
    budget: ReadBudget,
  ): Promise<{ audit: AccountAudit | undefined; elsewhere: boolean }> {
    let replay: JournalReplay | undefined;
    for await (const item of this.scanner.readPartition(id, { pageSize: this.options.pageSize, budget })) {
      if (item.kind === 'account') {
        if (this.isElsewhere(item.account)) return { audit: undefined, elsewhere: true };
        replay = new JournalReplay(id, item.account);
      } else {
        replay ??= new JournalReplay(id, undefined);
        replay.addPage(item.page);
      }
    }
    const audit = replay?.finish();
    const empty =
      audit === undefined || (audit.account === undefined && audit.pages === 0 && audit.voidPages === 0);
    return { audit: empty ? undefined : audit, elsewhere: false };
  }

  private isElsewhere(account: Pick<AuditedAccount, 'homeRegion'>): boolean {
    const home = this.options.homeRegion;
    return home !== undefined && account.homeRegion !== home;
  }

  /**
   * Fresh consistent reads of the suspects: each transfer item first, then the pages its accounts
   * gained since their snapshot. A transfer moving between the two reads stays a suspect for the next
   * round; a transfer changes state at most three times, so one that never settles is a difference.
   */
  private async recheck(
    findings: LedgerFindings,
    audits: readonly AccountAudit[],
    elsewhere: Set<string>,
    budget: ReadBudget,
  ): Promise<Recheck> {
    const pending = new Map(findings.transferFindings);
    const reads: RecheckReads = {
      seen: new Map(audits.map((a) => [a.accountId, a.version])),
      known: new Map(audits.flatMap((a) => (a.account === undefined ? [] : [[a.accountId, a.account]]))),
      later: new Map(),
      elsewhere,
    };
    const covers = findings.scope.covers ?? (() => true);
    const settled = new Set<string>();
    let rounds = 0;
    while (pending.size > 0 && rounds < RECHECK_ROUNDS_MAX) {
      rounds++;
      if (rounds > 1) await sleep(BACKOFF_MS * (rounds - 1));
      this.progress(`re-checking ${pending.size} transfer(s), round ${rounds} of ${RECHECK_ROUNDS_MAX}`);
      const fresh = await this.scanner.getTransfers([...pending.keys()], budget);
      const accounts = accountsToReread(pending, fresh).filter(covers);
      await mapBounded(accounts, this.options.concurrency, (id) => this.readNewLines(id, reads, budget));
      for (const id of [...pending.keys()]) {
        const lines = [...(findings.linesByTransfer.get(id) ?? []), ...(reads.later.get(id) ?? [])];
        const finding = checkTransfer(id, fresh.get(id), lines, findings.scope);
        if (finding === undefined) {
          settled.add(id);
          pending.delete(id);
        } else pending.set(id, finding);
      }
    }
    return { settled, still: pending, rounds };
  }

  /**
   * The lines an account gained after the version already read; moves that version on. An account
   * never read before is read whole, item first (it may be homed elsewhere). Void pages (a fenced
   * region's, by the account as read) never counted: skipped, the next run names them.
   */
  private async readNewLines(accountId: string, reads: RecheckReads, budget: ReadBudget): Promise<void> {
    if (reads.elsewhere.has(accountId)) return;
    const after = reads.seen.get(accountId);
    let last = after ?? 0n;
    for await (const item of this.scanner.readPartition(accountId, {
      pageSize: this.options.pageSize,
      budget,
      ...(after === undefined ? {} : { afterVersion: after }),
    })) {
      if (item.kind === 'account') {
        if (this.isElsewhere(item.account)) {
          reads.elsewhere.add(accountId);
          return;
        }
        if (!reads.known.has(accountId)) reads.known.set(accountId, item.account);
        continue;
      }
      last = item.page.version > last ? item.page.version : last;
      if (voidedStamp(reads.known.get(accountId), item.page.epoch, item.page.version) !== undefined) continue;
      for (const line of item.page.lines) {
        const list = reads.later.get(line.transferId) ?? [];
        list.push(auditLineOf(accountId, item.page, line));
        reads.later.set(line.transferId, list);
      }
    }
    reads.seen.set(accountId, last);
  }

  private progress(line: string): void {
    this.options.progress?.(line);
  }
}

function accountsToReread(
  pending: ReadonlyMap<string, TransferFinding>,
  fresh: ReadonlyMap<string, AuditTransfer>,
): string[] {
  const accounts = new Set<string>();
  for (const [id, finding] of pending) {
    for (const a of finding.accountIds) accounts.add(a);
    const t = fresh.get(id);
    if (t !== undefined) {
      accounts.add(t.debitAccountId);
      accounts.add(t.creditAccountId);
      for (const line of expectedLinesOf(t)) accounts.add(line.accountId);
    }
  }
  return [...accounts];
}

function countByStatus(transfers: Iterable<AuditTransfer>): Partial<Record<TransferStatus, number>> {
  const counts: Partial<Record<TransferStatus, number>> = {};
  for (const t of transfers) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}

function stopwatch(): { lap: () => number; total: () => number } {
  const start = performance.now();
  let last = start;
  return {
    lap: () => {
      const now = performance.now();
      const ms = Math.round(now - last);
      last = now;
      return ms;
    },
    total: () => Math.round(performance.now() - start),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CloudWatch metrics of a scheduled run (the CDK alarm reads `differences`). */
export const AUDIT_METRICS = {
  runs: 'LedgerAuditRuns',
  differences: 'LedgerAuditDifferences',
  inFlight: 'LedgerAuditInFlightTransfers',
} as const;
