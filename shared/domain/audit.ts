import { LedgerError } from './errors.js';
import {
  type Account,
  type AccountFork,
  availableBalance,
  CLEARING_PREFIX,
  type CreditLeg,
  clearingAccountId,
  epochAt,
  isClearingAccount,
  type JournalLine,
  type JournalPage,
  LineType,
  type Transfer,
  TransferStatus,
} from './ledger.js';
import { formatMinorUnits } from './money.js';

/**
 * The ledger audit's pure checks. The service feeds them what it read; they never read anything.
 *
 * 1. per currency, the balances sum to zero (every posted transfer's lines pair up across accounts);
 * 2. each account's balance and held amount follow from its journal (the line chain replays);
 * 3. each account's held amount is the sum of its active holds (transfers HELD debiting it);
 * 4. no account's available balance is below -overdraftLimit;
 * 5. no write of a region fenced off by a failover (after the account's failover point) is left
 *    unnamed: such writes never counted, so checks 1-4 skip them, and each is a difference.
 *
 * Clearing accounts (cross-region transfers) are ordinary accounts for checks 1, 2 and 4. A transfer
 * across home regions is checked step by step (see `expectedLinesOf`): its debit side by its status,
 * its credit side by its credit leg. A home-scoped audit checks the lines on the accounts it reads.
 *
 * Reads under traffic are not a snapshot of the whole table. Each account is read as one snapshot
 * (its item, then the pages at or below the item's version, see JournalReplay), so checks 2 and 4
 * are exact per account. A transfer whose lines or status disagree may be in flight (posted between
 * two reads): it is a suspect, re-checked with fresh reads before it becomes a difference
 * (`settleAudit`). Check 1 then follows exactly: the balances as read, less the lines of the
 * transfers found in flight, sum to zero.
 */

export const DifferenceKind = {
  /** Check 1: a currency's balances do not sum to zero (after the in-flight transfers). */
  CURRENCY_TOTAL: 'currency_total',
  /** Check 1: a transfer's money lines do not net to zero across its accounts. */
  UNPAIRED_TRANSFER: 'unpaired_transfer',
  /** Check 1: a transfer's lines net to zero but do not match its status, amount or accounts. */
  TRANSFER_LINES_MISMATCH: 'transfer_lines_mismatch',
  /** Check 2: the account's balance is not the sum of its posted lines. */
  BALANCE_MISMATCH: 'balance_mismatch',
  /** Check 2: the account's held amount is not the sum of the holds its journal leaves open. */
  HELD_MISMATCH: 'held_mismatch',
  /** Check 2: a line's balanceAfter/heldAfter does not follow from the line before it. */
  CHAIN_BREAK: 'chain_break',
  /** Check 2: journal pages in a partition without an account item. */
  JOURNAL_WITHOUT_ACCOUNT: 'journal_without_account',
  /** Check 3: the held amount is not the sum of the account's HELD transfers. */
  ACTIVE_HOLDS_MISMATCH: 'active_holds_mismatch',
  /** Check 4: available balance below -overdraftLimit. */
  BELOW_LIMIT: 'below_limit',
  /**
   * Check 5: a journal page, transfer or credit leg written by a region after a failover took the
   * account over (its epoch is not the one in force at its version): void, it never counted.
   * Not a hold's VOIDED status: the write itself is void.
   */
  VOIDED_WRITE: 'voided_write',
} as const;
export type DifferenceKind = (typeof DifferenceKind)[keyof typeof DifferenceKind];

/** The audit's checks, by number (see the top of this file). */
export type AuditCheck = 1 | 2 | 3 | 4 | 5;
export const AUDIT_CHECKS: readonly AuditCheck[] = [1, 2, 3, 4, 5];

/** Which of the checks each kind of difference fails. */
export const CHECK_OF: Readonly<Record<DifferenceKind, AuditCheck>> = {
  currency_total: 1,
  unpaired_transfer: 1,
  transfer_lines_mismatch: 1,
  balance_mismatch: 2,
  held_mismatch: 2,
  chain_break: 2,
  journal_without_account: 2,
  active_holds_mismatch: 3,
  below_limit: 4,
  voided_write: 5,
};

export const CHECK_TITLES = {
  1: 'per currency, the balances sum to zero (transfers pair up)',
  2: 'balances and held amounts follow from the journal',
  3: 'held amounts equal the active holds',
  4: 'no account below its overdraft limit',
  5: 'no write made by a fenced region after its failover point',
} as const satisfies Record<AuditCheck, string>;

/** One thing the audit found wrong, named by account and/or transfer. */
export interface Difference {
  readonly kind: DifferenceKind;
  readonly accountId?: string;
  readonly transferId?: string;
  readonly currency?: string;
  /** What the ledger says minus what it should say, in minor units, when the difference is an amount. */
  readonly amount?: bigint;
  /** A voided write: the account version it wrote and the epoch it was stamped with. */
  readonly version?: bigint;
  readonly epoch?: bigint;
  /** A voided journal page: the transfers whose lines are on it. */
  readonly transferIds?: readonly string[];
  readonly message: string;
}

/** Chain breaks named per account at most; the rest are counted in one more difference. */
export const CHAIN_BREAKS_NAMED_MAX = 5;

/** The account fields the audit uses; without `epoch` and `forks`, an account never re-homed. */
export type AuditedAccount = Pick<
  Account,
  'id' | 'currency' | 'balance' | 'heldAmount' | 'overdraftLimit' | 'version' | 'homeRegion'
> &
  Partial<Pick<Account, 'epoch' | 'forks'>>;

/** Where a record's write left its account (the recovery point), to judge it against failovers. */
interface AppliedStamp {
  readonly appliedEpoch?: bigint;
  readonly appliedVersion?: bigint;
}

/** The credit leg of a cross-region transfer (step 2, written by the credit account's home). */
export interface AuditCreditLeg extends AppliedStamp {
  readonly outcome: 'applied' | 'failed';
  /** The region that wrote it: its clearing account paid the credit. */
  readonly region: string;
  readonly amount: bigint;
}

/** The transfer fields the audit uses. */
export interface AuditTransfer extends AppliedStamp {
  readonly id: string;
  readonly status: TransferStatus;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  /** Present on a hold (the request had `holdTimeoutSeconds`). */
  readonly isHold: boolean;
  readonly capturedAmount?: bigint;
  /** Across home regions: the credit account's home when the debit was applied. */
  readonly creditRegion?: string;
  /** Across home regions: the debit home's clearing account that took the amount. */
  readonly clearingAccountId?: string;
  /** Across home regions: the credit leg item, when the read saw one. */
  readonly leg?: AuditCreditLeg;
}

/** The audit's view of a transfer and its credit leg as the ledger holds them (tests, in-memory ledgers). */
export function auditTransferOf(t: Transfer, leg?: CreditLeg): AuditTransfer {
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
  return {
    id: t.id,
    status: t.status,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: t.amount,
    currency: t.currency,
    isHold: t.holdTimeoutSeconds !== undefined,
    ...optional('capturedAmount', t.capturedAmount),
    ...optional('creditRegion', t.creditRegion),
    ...optional('clearingAccountId', t.clearingAccountId),
    ...optional('appliedEpoch', t.appliedEpoch),
    ...optional('appliedVersion', t.appliedVersion),
    ...(leg === undefined
      ? {}
      : {
          leg: {
            outcome: leg.outcome,
            region: leg.region,
            amount: leg.amount,
            ...optional('appliedEpoch', leg.appliedEpoch),
            ...optional('appliedVersion', leg.appliedVersion),
          },
        }),
  };
}

/** A statement line with the account it is on. */
export interface AuditLine {
  readonly accountId: string;
  readonly currency: string;
  readonly transferId: string;
  readonly type: LineType;
  readonly amount: bigint;
  readonly counterpartyAccountId?: string;
}

/** One account as the audit saw it: its snapshot's facts and what was wrong in it. */
export interface AccountAudit {
  readonly accountId: string;
  /** Undefined when the partition has journal pages but no account item. */
  readonly account: AuditedAccount | undefined;
  /** The account version the snapshot stands at (0 without an account item). */
  readonly version: bigint;
  readonly pages: number;
  readonly lines: readonly AuditLine[];
  /** Pages newer than the account item read: after the snapshot, left to the in-flight re-check. */
  readonly pagesBeyondSnapshot: number;
  /** Pages a fenced region wrote after the failover point: skipped by checks 1-4, each a difference. */
  readonly voidPages: number;
  /** Holds the journal leaves open, by transfer id: the HOLD line's amount. */
  readonly openHolds: ReadonlyMap<string, bigint>;
  /** Checks 2 and 4. */
  readonly differences: readonly Difference[];
}

/** The audit read more items than its bound: the table is larger than one run may read. */
export class AuditLimitError extends LedgerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuditLimitError';
  }
}

/** Counts every item a run reads and stops the run past `itemsMax` (memory and time stay bounded). */
export class ReadBudget {
  private read = 0;

  constructor(readonly itemsMax: number) {
    if (!Number.isSafeInteger(itemsMax) || itemsMax < 1)
      throw new RangeError(`itemsMax must be >= 1: ${itemsMax}`);
  }

  get itemsRead(): number {
    return this.read;
  }

  /** Records one request's items (at least 1, so a loop of empty pages is bounded too). */
  spend(items: number): void {
    this.read += Math.max(1, items);
    if (this.read > this.itemsMax) {
      throw new AuditLimitError(
        `the audit read ${this.read} items, more than its bound of ${this.itemsMax}: the table is larger ` +
          'than one run may read. Raise the bound (--items-max, or AUDIT_ITEMS_MAX for the Lambda) ' +
          'if memory and time allow.',
      );
    }
  }
}

/** A statement line of `page` on account `accountId`, as the audit keeps it. */
export function auditLineOf(
  accountId: string,
  page: Pick<JournalPage, 'currency'>,
  line: JournalLine,
): AuditLine {
  return {
    accountId,
    currency: page.currency,
    transferId: line.transferId,
    type: line.type,
    amount: line.amount,
    ...(line.counterpartyAccountId === undefined
      ? {}
      : { counterpartyAccountId: line.counterpartyAccountId }),
  };
}

const signed = (v: bigint): string => (v > 0n ? `+${formatMinorUnits(v)}` : formatMinorUnits(v));

// ---- failovers ---------------------------------------------------------------------------------

/** A write a failover voided: stamped with an epoch other than the one in force at its version. */
export interface VoidedStamp {
  readonly epoch: bigint;
  readonly version: bigint;
  /** The epoch in force at `version` (by the account's forks, as read). */
  readonly inForce: bigint;
  /** The region that held `epoch`, so made the write, when the account's forks say. */
  readonly writer: string | undefined;
  /** Where the next epoch's home took the account over, for a write of an older epoch. */
  readonly failoverVersion: bigint | undefined;
}

/**
 * Whether a write stamped (`epoch`, `version`) on `account` counted, judged by the account as read
 * (the rule of `isVoidedByFailover` and of the statement reader): undefined when it counted or the
 * account is unknown, else what voided it. Beyond the account's version, a write of the account's
 * epoch is merely after the snapshot, and one of an older epoch is void for good (that epoch never
 * writes again). A newer epoch than the account's is a failover after the snapshot: not judged.
 */
export function voidedStamp(
  account: Pick<AuditedAccount, 'version' | 'epoch' | 'forks'> | undefined,
  epoch: bigint | undefined,
  version: bigint,
): VoidedStamp | undefined {
  if (account === undefined) return undefined;
  const stamped = epoch ?? 1n;
  const current = account.epoch ?? 1n;
  if (stamped > current) return undefined;
  const inForce = version > account.version ? current : epochAt(account, version);
  if (stamped === inForce) return undefined;
  const forks = account.forks ?? [];
  let next: AccountFork | undefined;
  for (const f of forks) if (f.epoch > stamped && (next === undefined || f.epoch < next.epoch)) next = f;
  const writer =
    forks.find((f) => f.epoch === stamped)?.to ?? forks.find((f) => f.epoch === stamped + 1n)?.from;
  return {
    epoch: stamped,
    version,
    inForce,
    writer,
    failoverVersion: stamped < inForce ? next?.version : undefined,
  };
}

/** "written by us-east-2 at epoch 1 after the failover point (version 5): never counted; ..." */
export function voidedText(v: VoidedStamp): string {
  const by = v.writer === undefined ? '' : ` by ${v.writer}`;
  const when =
    v.failoverVersion === undefined
      ? `but version ${v.version} belongs to epoch ${v.inForce}`
      : `after the failover point (version ${v.failoverVersion})`;
  return `written${by} at epoch ${v.epoch} ${when}: never counted; re-submit or resolve`;
}

/**
 * Replays one account's journal, page by page in version order, against its account item read just
 * before the pages. Pages newer than the item are skipped: every page at or below the item's version
 * was committed with or before that version (versions only grow), so item + those pages are one
 * consistent snapshot even when writes land during the read.
 */
export class JournalReplay {
  private balance = 0n;
  private held = 0n;
  /** Sum of the money lines: CREDIT + RETURN - DEBIT - CAPTURE. */
  private posted = 0n;
  private pages = 0;
  private beyond = 0;
  private voided = 0;
  private lastVersion = 0n;
  private breaks = 0;
  private readonly openHolds = new Map<string, bigint>();
  private readonly closedHolds = new Set<string>();
  private readonly lines: AuditLine[] = [];
  private readonly differences: Difference[] = [];

  constructor(
    private readonly accountId: string,
    private readonly account: AuditedAccount | undefined,
  ) {}

  addPage(page: JournalPage): void {
    if (page.version <= this.lastVersion) {
      throw new Error(`pages of ${this.accountId} out of order: ${page.version} after ${this.lastVersion}`);
    }
    if (this.account !== undefined) {
      // A fenced region's page never counted: named, and kept out of the balance and the chain.
      const voided = voidedStamp(this.account, page.epoch, page.version);
      if (voided !== undefined) {
        this.voidPage(page, voided);
        return;
      }
      if (page.version > this.account.version) {
        this.beyond++;
        return;
      }
    }
    this.lastVersion = page.version;
    this.pages++;
    if (this.account !== undefined && page.currency !== this.account.currency) {
      this.chainBreak(`page ${page.version} is in ${page.currency}, the account in ${this.account.currency}`);
    }
    for (const [index, line] of page.lines.entries()) this.addLine(page, index, line);
  }

  finish(): AccountAudit {
    const a = this.account;
    if (a === undefined && this.pages > 0) {
      this.differences.push({
        kind: DifferenceKind.JOURNAL_WITHOUT_ACCOUNT,
        accountId: this.accountId,
        message: `account ${this.accountId}: ${this.pages} journal page(s) but no account item`,
      });
    }
    if (a !== undefined) this.checkAccountItem(a);
    if (this.breaks > CHAIN_BREAKS_NAMED_MAX) {
      this.differences.push({
        kind: DifferenceKind.CHAIN_BREAK,
        accountId: this.accountId,
        message: `account ${this.accountId}: ${this.breaks - CHAIN_BREAKS_NAMED_MAX} more chain break(s)`,
      });
    }
    return {
      accountId: this.accountId,
      account: a,
      version: a?.version ?? this.lastVersion,
      pages: this.pages,
      lines: this.lines,
      pagesBeyondSnapshot: this.beyond,
      voidPages: this.voided,
      openHolds: this.openHolds,
      differences: this.differences,
    };
  }

  private voidPage(page: JournalPage, voided: VoidedStamp): void {
    this.voided++;
    const transferIds = [...new Set(page.lines.map((l) => l.transferId))];
    this.differences.push({
      kind: DifferenceKind.VOIDED_WRITE,
      accountId: this.accountId,
      currency: page.currency,
      version: page.version,
      epoch: voided.epoch,
      transferIds,
      message: `account ${this.accountId}: page ${page.version} (transfers ${transferIds.join(', ')}) ${voidedText(voided)}`,
    });
  }

  private addLine(page: JournalPage, index: number, line: JournalLine): void {
    const where = `page ${page.version} line ${index} (${line.type} ${line.transferId} ${line.amount})`;
    if (line.amount <= 0n) this.chainBreak(`${where}: amount is not positive`);
    const expected = this.effect(line, where);
    if (expected.balance !== line.balanceAfter || expected.held !== line.heldAfter) {
      this.chainBreak(
        `${where} says balance ${line.balanceAfter} held ${line.heldAfter}, ` +
          `the line before it implies balance ${expected.balance} held ${expected.held}`,
      );
    }
    // Continue from what the line says, so one broken line is reported once, not on every later line.
    this.balance = line.balanceAfter;
    this.held = line.heldAfter;
    this.lines.push(auditLineOf(this.accountId, page, line));
  }

  /** Balance and held amount after `line`, from the ones before it; tracks the holds it opens and closes. */
  private effect(line: JournalLine, where: string): { balance: bigint; held: bigint } {
    switch (line.type) {
      case LineType.CREDIT:
        this.posted += line.amount;
        return { balance: this.balance + line.amount, held: this.held };
      case LineType.DEBIT:
        this.posted -= line.amount;
        return { balance: this.balance - line.amount, held: this.held };
      case LineType.RETURN:
        this.posted += line.amount;
        return { balance: this.balance + line.amount, held: this.held };
      case LineType.HOLD:
        if (this.openHolds.has(line.transferId) || this.closedHolds.has(line.transferId)) {
          this.chainBreak(`${where}: the hold was already placed`);
        }
        this.openHolds.set(line.transferId, line.amount);
        return { balance: this.balance, held: this.held + line.amount };
      case LineType.RELEASE: {
        const hold = this.closeHold(line, where);
        if (hold !== undefined && hold !== line.amount)
          this.chainBreak(`${where}: releases ${line.amount} of a hold of ${hold}`);
        return { balance: this.balance, held: this.held - line.amount };
      }
      case LineType.CAPTURE: {
        this.posted -= line.amount;
        const hold = this.closeHold(line, where);
        if (hold !== undefined && line.amount > hold)
          this.chainBreak(`${where}: captures more than the hold of ${hold}`);
        // A capture releases the whole hold; without an open hold, take the line's word for it.
        return {
          balance: this.balance - line.amount,
          held: hold === undefined ? line.heldAfter : this.held - hold,
        };
      }
      default:
        this.chainBreak(`${where}: unknown line type`);
        return { balance: line.balanceAfter, held: line.heldAfter };
    }
  }

  private closeHold(line: JournalLine, where: string): bigint | undefined {
    const hold = this.openHolds.get(line.transferId);
    if (hold === undefined) {
      this.chainBreak(`${where}: no open hold of this transfer`);
      return undefined;
    }
    this.openHolds.delete(line.transferId);
    this.closedHolds.add(line.transferId);
    return hold;
  }

  private checkAccountItem(a: AuditedAccount): void {
    const id = this.accountId;
    const openTotal = sum(this.openHolds.values());
    if (a.balance !== this.posted) {
      this.difference(
        DifferenceKind.BALANCE_MISMATCH,
        a,
        a.balance - this.posted,
        `account ${id}: balance ${a.balance} but its journal sums to ${this.posted} (${signed(a.balance - this.posted)} ${a.currency})`,
      );
    }
    if (a.heldAmount !== openTotal) {
      this.difference(
        DifferenceKind.HELD_MISMATCH,
        a,
        a.heldAmount - openTotal,
        `account ${id}: held amount ${a.heldAmount} but its journal leaves ${openTotal} on hold (${signed(a.heldAmount - openTotal)} ${a.currency})`,
      );
    }
    if (this.pages > 0 && (this.balance !== a.balance || this.held !== a.heldAmount)) {
      this.chainBreak(
        `the last line (page ${this.lastVersion}) says balance ${this.balance} held ${this.held}, ` +
          `the account item (version ${a.version}) balance ${a.balance} held ${a.heldAmount}`,
      );
    }
    const headroom = availableBalance(a) + a.overdraftLimit;
    if (headroom < 0n) {
      this.difference(
        DifferenceKind.BELOW_LIMIT,
        a,
        headroom,
        `account ${id}: available balance ${availableBalance(a)} is ${-headroom} below -overdraftLimit (-${a.overdraftLimit}) ${a.currency}`,
      );
    }
  }

  private difference(kind: DifferenceKind, a: AuditedAccount, amount: bigint, message: string): void {
    this.differences.push({ kind, accountId: a.id, currency: a.currency, amount, message });
  }

  private chainBreak(detail: string): void {
    this.breaks++;
    if (this.breaks > CHAIN_BREAKS_NAMED_MAX) return;
    this.differences.push({
      kind: DifferenceKind.CHAIN_BREAK,
      accountId: this.accountId,
      ...(this.account === undefined ? {} : { currency: this.account.currency }),
      message: `account ${this.accountId}: ${detail}`,
    });
  }
}

/** Replays a whole journal at once (tests, small accounts). */
export function auditAccount(
  accountId: string,
  account: AuditedAccount | undefined,
  pages: Iterable<JournalPage>,
): AccountAudit {
  const replay = new JournalReplay(accountId, account);
  for (const page of pages) replay.addPage(page);
  return replay.finish();
}

// ---- transfers ---------------------------------------------------------------------------------

/** A record of a transfer that a failover voided, and the account whose forks void it. */
export interface VoidedRecord {
  /** The transfer item (judged by its debit account) or its credit leg (by its credit account). */
  readonly part: 'transfer' | 'credit leg';
  readonly accountId: string;
  readonly stamp: VoidedStamp;
}

/** A transfer's lines that disagree with its status; settled as in flight, or reported. */
export interface TransferFinding {
  readonly transferId: string;
  readonly kind:
    | typeof DifferenceKind.UNPAIRED_TRANSFER
    | typeof DifferenceKind.TRANSFER_LINES_MISMATCH
    | typeof DifferenceKind.VOIDED_WRITE;
  readonly currency: string | undefined;
  /** CREDIT + RETURN - DEBIT - CAPTURE over the lines seen: what these lines add to their currency's total. */
  readonly net: bigint;
  /** The accounts to read again: the transfer's two, any account its lines are or should be on. */
  readonly accountIds: readonly string[];
  /** Its records a failover voided: then the finding is a voided write, not a pairing. */
  readonly voided: readonly VoidedRecord[];
  readonly message: string;
}

/** What the transfer checks may rely on: which accounts were read, and how they stand. */
export interface TransferScope {
  /** False for an account this audit does not read (homed in another region). Default: every account. */
  readonly covers?: (accountId: string) => boolean;
  /** An account as read: its forks tell whether a record stamped by its former home counted. */
  readonly accountOf?: (accountId: string) => AuditedAccount | undefined;
}

type ExpectedLine = Pick<AuditLine, 'accountId' | 'type' | 'amount' | 'counterpartyAccountId'>;

/** Where a cross-region transfer's missing clearing account id points, so the gap is named. */
const NO_CLEARING_ACCOUNT = `${CLEARING_PREFIX}?`;

const expected = (
  accountId: string,
  type: LineType,
  amount: bigint,
  counterpartyAccountId: string,
): ExpectedLine => ({ accountId, type, amount, counterpartyAccountId });

const isCrossRegion = (t: AuditTransfer): boolean =>
  t.status === TransferStatus.DEBITED ||
  t.status === TransferStatus.RETURNED ||
  (t.status === TransferStatus.POSTED && t.creditRegion !== undefined);

/**
 * The lines a transfer has made, exactly (nothing for ACCEPTED and REJECTED). Across home regions
 * the debit side follows the status, the credit side the credit leg:
 * - DEBITED (step 1): DEBIT on the debit account (a captured hold: HOLD and CAPTURE), CREDIT on the
 *   debit home's clearing account; plus, once the leg is applied (step 2), DEBIT on the credit home's
 *   clearing account and CREDIT on the credit account;
 * - POSTED (step 3): all of these (a POSTED transfer's leg was applied, seen or not);
 * - RETURNED (step 3, the leg failed): the debit side, then DEBIT on the debit home's clearing
 *   account and RETURN on the debit account.
 * The parts in `voided` never counted and make no lines.
 */
export function expectedLinesOf(t: AuditTransfer, voided: readonly VoidedRecord[] = []): ExpectedLine[] {
  const isVoided = (part: VoidedRecord['part']) => voided.some((v) => v.part === part);
  return [
    ...(isVoided('transfer') ? [] : debitSideLines(t)),
    ...(isVoided('credit leg') ? [] : creditSideLines(t)),
  ];
}

/** The lines the debit account's home wrote, by the transfer's status. */
function debitSideLines(t: AuditTransfer): ExpectedLine[] {
  const { debitAccountId: debit, creditAccountId: credit } = t;
  const moved = t.capturedAmount ?? t.amount;
  const hold = expected(debit, LineType.HOLD, t.amount, credit);
  const taken = t.isHold
    ? [hold, expected(debit, LineType.CAPTURE, moved, credit)]
    : [expected(debit, LineType.DEBIT, moved, credit)];
  const clearing = t.clearingAccountId ?? NO_CLEARING_ACCOUNT;
  const toClearing = [...taken, expected(clearing, LineType.CREDIT, moved, debit)];
  switch (t.status) {
    case TransferStatus.HELD:
      return [hold];
    case TransferStatus.VOIDED:
    case TransferStatus.EXPIRED:
      return [hold, expected(debit, LineType.RELEASE, t.amount, credit)];
    case TransferStatus.POSTED:
      return t.creditRegion === undefined
        ? [...taken, expected(credit, LineType.CREDIT, moved, debit)]
        : toClearing;
    case TransferStatus.DEBITED:
      return toClearing;
    case TransferStatus.RETURNED:
      return [
        ...toClearing,
        expected(clearing, LineType.DEBIT, moved, debit),
        expected(debit, LineType.RETURN, moved, credit),
      ];
    default:
      return [];
  }
}

/**
 * The lines the credit account's home wrote (step 2): its clearing account pays the credit. Without
 * a leg read, a POSTED transfer still implies them (its leg was applied before it was posted).
 */
function creditSideLines(t: AuditTransfer): ExpectedLine[] {
  const postedAcross = t.status === TransferStatus.POSTED && t.creditRegion !== undefined;
  const applied = t.leg === undefined ? postedAcross : t.leg.outcome === 'applied';
  const region = t.leg?.region ?? t.creditRegion;
  if (!applied || region === undefined) return [];
  const moved = t.capturedAmount ?? t.amount;
  return [
    expected(
      clearingAccountId(region, t.currency, t.creditAccountId),
      LineType.DEBIT,
      moved,
      t.creditAccountId,
    ),
    expected(t.creditAccountId, LineType.CREDIT, moved, t.debitAccountId),
  ];
}

/** The transfer's records a failover voided, judged by the accounts as read (none without them). */
export function voidedRecordsOf(t: AuditTransfer, accountOf: TransferScope['accountOf']): VoidedRecord[] {
  if (accountOf === undefined) return [];
  const records: VoidedRecord[] = [];
  const judge = (part: VoidedRecord['part'], accountId: string, s: AppliedStamp): void => {
    if (s.appliedEpoch === undefined || s.appliedVersion === undefined) return;
    const stamp = voidedStamp(accountOf(accountId), s.appliedEpoch, s.appliedVersion);
    if (stamp !== undefined) records.push({ part, accountId, stamp });
  };
  judge('transfer', t.debitAccountId, t);
  if (t.leg !== undefined) judge('credit leg', t.creditAccountId, t.leg);
  return records;
}

/** A transfer and its credit leg that contradict each other whatever the lines say. */
function protocolConflict(t: AuditTransfer, voided: readonly VoidedRecord[]): string | undefined {
  const leg = t.leg;
  if (leg === undefined || voided.some((v) => v.part === 'credit leg')) return undefined;
  const said = `its credit leg ${leg.outcome} at ${leg.region}`;
  if (voided.length > 0)
    return leg.outcome === 'applied' ? `${said} and counted: the credit stands without its debit` : undefined;
  if (!isCrossRegion(t)) return `${said}, but the transfer was not debited across regions`;
  if (t.status === TransferStatus.RETURNED && leg.outcome === 'applied')
    return `${said}, yet the debit was returned`;
  if (t.status === TransferStatus.POSTED && leg.outcome === 'failed')
    return `${said}, yet the transfer is POSTED`;
  const moved = t.capturedAmount ?? t.amount;
  if (leg.amount !== moved) return `${said} for ${leg.amount}, not ${moved}`;
  return undefined;
}

function voidedPart(v: VoidedRecord): string {
  const what = v.part === 'transfer' ? 'its last write' : 'its credit leg';
  return `${what} (version ${v.stamp.version} of ${v.accountId}) ${voidedText(v.stamp)}`;
}

/** What `line` adds to its account's balance. */
export function moneyEffect(line: Pick<AuditLine, 'type' | 'amount'>): bigint {
  if (line.type === LineType.CREDIT || line.type === LineType.RETURN) return line.amount;
  if (line.type === LineType.DEBIT || line.type === LineType.CAPTURE) return -line.amount;
  return 0n;
}

const lineKey = (l: ExpectedLine): string =>
  `${l.type} ${l.amount} on ${l.accountId} (with ${l.counterpartyAccountId ?? '?'})`;

/**
 * Checks one transfer against every line carrying its id: the lines must be exactly those its status
 * (and across regions, its credit leg) implies, on the accounts `scope` covers: a POSTED transfer, a
 * DEBIT on the debit account and a CREDIT on the credit account, same amount; a captured hold: HOLD,
 * CAPTURE and CREDIT; ... (see `expectedLinesOf`). A record a failover voided is a finding of its own
 * (a voided write). Undefined when all agree.
 */
export function checkTransfer(
  transferId: string,
  transfer: AuditTransfer | undefined,
  lines: readonly AuditLine[],
  scope: TransferScope = {},
): TransferFinding | undefined {
  const covers = scope.covers ?? (() => true);
  const voided = transfer === undefined ? [] : voidedRecordsOf(transfer, scope.accountOf);
  const wanted =
    transfer === undefined ? [] : expectedLinesOf(transfer, voided).filter((l) => covers(l.accountId));
  const expectedKeys = wanted.map(lineKey);
  const actual = lines.map(lineKey);
  const missing = multisetMinus(expectedKeys, actual);
  const unexpected = multisetMinus(actual, expectedKeys);
  const conflict = transfer === undefined ? undefined : protocolConflict(transfer, voided);
  if (missing.length === 0 && unexpected.length === 0 && conflict === undefined && voided.length === 0)
    return undefined;
  const net = sum(lines.map(moneyEffect));
  const accountIds = new Set([...lines, ...wanted].map((l) => l.accountId));
  if (transfer !== undefined) {
    for (const id of [transfer.debitAccountId, transfer.creditAccountId]) if (covers(id)) accountIds.add(id);
  }
  const what =
    transfer === undefined
      ? `transfer ${transferId} (no transfer item)`
      : `transfer ${transferId} (${transfer.status}${transfer.isHold ? ' hold' : ''} ${transfer.amount} ${transfer.currency} ${transfer.debitAccountId} -> ${transfer.creditAccountId})`;
  const parts = [
    ...voided.map(voidedPart),
    ...(conflict === undefined ? [] : [conflict]),
    ...(net === 0n ? [] : [`its lines net to ${signed(net)}`]),
    ...(missing.length === 0 ? [] : [`missing ${missing.join(', ')}`]),
    ...(unexpected.length === 0 ? [] : [`unexpected ${unexpected.join(', ')}`]),
  ];
  return {
    transferId,
    kind:
      voided.length > 0
        ? DifferenceKind.VOIDED_WRITE
        : net === 0n
          ? DifferenceKind.TRANSFER_LINES_MISMATCH
          : DifferenceKind.UNPAIRED_TRANSFER,
    currency: transfer?.currency ?? lines[0]?.currency,
    net,
    accountIds: [...accountIds],
    voided,
    message: `${what}: ${parts.join('; ')}`,
  };
}

function multisetMinus(from: readonly string[], remove: readonly string[]): string[] {
  const left = [...from];
  for (const r of remove) {
    const i = left.indexOf(r);
    if (i >= 0) left.splice(i, 1);
  }
  return left;
}

// ---- the whole ledger --------------------------------------------------------------------------

/** Check 3 failing for one account, unless every transfer that explains it turns out in flight. */
export interface HoldFinding {
  readonly accountId: string;
  readonly currency: string;
  readonly heldAmount: bigint;
  /** Sum of the amounts of the HELD transfers debiting the account. */
  readonly activeHolds: bigint;
  /** Transfers on one side only (journal open hold vs HELD transfer), or with different amounts. */
  readonly suspects: readonly string[];
}

export interface LedgerFindings {
  /** Checks 2 and 4, per account snapshot: final. */
  readonly accountDifferences: readonly Difference[];
  /** Check 1 suspects: transfers whose lines disagree with them as read. */
  readonly transferFindings: ReadonlyMap<string, TransferFinding>;
  /** Check 3 suspects. */
  readonly holdFindings: readonly HoldFinding[];
  /** The snapshot lines of each transfer (the in-flight re-check adds to them). */
  readonly linesByTransfer: ReadonlyMap<string, readonly AuditLine[]>;
  /** Balances as read, per currency (clearing accounts included, and also summed apart). */
  readonly readTotals: ReadonlyMap<string, ReadTotal>;
  /** What the transfer checks relied on; the in-flight re-check uses the same. */
  readonly scope: TransferScope;
}

/** One currency's balances as read. */
export interface ReadTotal {
  readonly accounts: number;
  readonly total: bigint;
  readonly clearingAccounts: number;
  /** The clearing accounts' balances: what is in flight between regions, as this audit sees it. */
  readonly clearingNet: bigint;
}

/**
 * Runs the checks over per-account snapshots and the transfers as read. `elsewhere` names accounts
 * known to be homed in another region (a home-scoped audit): lines expected on them are not checked.
 */
export function auditLedger(
  accounts: readonly AccountAudit[],
  transfers: ReadonlyMap<string, AuditTransfer>,
  elsewhere: ReadonlySet<string> = new Set(),
): LedgerFindings {
  const linesByTransfer = new Map<string, AuditLine[]>();
  const readTotals = new Map<string, ReadTotal>();
  const read = new Map<string, AuditedAccount>();
  for (const a of accounts) {
    for (const line of a.lines) {
      const list = linesByTransfer.get(line.transferId) ?? [];
      list.push(line);
      linesByTransfer.set(line.transferId, list);
    }
    if (a.account === undefined) continue;
    read.set(a.accountId, a.account);
    readTotals.set(a.account.currency, addToTotal(readTotals.get(a.account.currency), a.account));
  }
  const scope: TransferScope = { covers: (id) => !elsewhere.has(id), accountOf: (id) => read.get(id) };
  const transferFindings = new Map<string, TransferFinding>();
  for (const id of new Set([...transfers.keys(), ...linesByTransfer.keys()])) {
    const finding = checkTransfer(id, transfers.get(id), linesByTransfer.get(id) ?? [], scope);
    if (finding !== undefined) transferFindings.set(id, finding);
  }
  // A void page is resolved once every transfer on it stands in the valid lineage: its record is not
  // void and its lines there are exactly what its status implies (re-applied by the new home, e.g.
  // after `npm run ops -- reapply`). The page stays in the table, counted in voidPages, never read.
  const resolved = (d: Difference): boolean =>
    d.kind === DifferenceKind.VOIDED_WRITE &&
    d.transferIds !== undefined &&
    d.transferIds.every((id) => {
      const t = transfers.get(id);
      return t !== undefined && !transferFindings.has(id) && voidedRecordsOf(t, scope.accountOf).length === 0;
    });
  return {
    accountDifferences: accounts.flatMap((a) => a.differences.filter((d) => !resolved(d))),
    transferFindings,
    holdFindings: findHoldMismatches(accounts, transfers, scope),
    linesByTransfer,
    readTotals,
    scope,
  };
}

function addToTotal(t: ReadTotal | undefined, a: AuditedAccount): ReadTotal {
  const clearing = isClearingAccount(a.id);
  return {
    accounts: (t?.accounts ?? 0) + 1,
    total: (t?.total ?? 0n) + a.balance,
    clearingAccounts: (t?.clearingAccounts ?? 0) + (clearing ? 1 : 0),
    clearingNet: (t?.clearingNet ?? 0n) + (clearing ? a.balance : 0n),
  };
}

/** HELD transfers against held amounts; a hold whose record a failover voided never counted. */
function findHoldMismatches(
  accounts: readonly AccountAudit[],
  transfers: ReadonlyMap<string, AuditTransfer>,
  scope: TransferScope,
): HoldFinding[] {
  const heldBy = new Map<string, Map<string, bigint>>();
  for (const t of transfers.values()) {
    if (t.status !== TransferStatus.HELD) continue;
    if (voidedRecordsOf(t, scope.accountOf).some((v) => v.part === 'transfer')) continue;
    const holds = heldBy.get(t.debitAccountId) ?? new Map<string, bigint>();
    holds.set(t.id, t.amount);
    heldBy.set(t.debitAccountId, holds);
  }
  const findings: HoldFinding[] = [];
  for (const a of accounts) {
    if (a.account === undefined) continue;
    const held = heldBy.get(a.accountId) ?? new Map<string, bigint>();
    const activeHolds = sum(held.values());
    if (activeHolds === a.account.heldAmount) continue;
    const ids = new Set([...held.keys(), ...a.openHolds.keys()]);
    const suspects = [...ids].filter((id) => held.get(id) !== a.openHolds.get(id));
    findings.push({
      accountId: a.accountId,
      currency: a.account.currency,
      heldAmount: a.account.heldAmount,
      activeHolds,
      suspects,
    });
  }
  return findings;
}

/** A currency's balances: as read, the part that was in flight, and the settled total (must be 0). */
export interface CurrencyTotal {
  readonly currency: string;
  readonly accounts: number;
  readonly readTotal: bigint;
  readonly inFlight: bigint;
  readonly total: bigint;
  /**
   * Informative, present when the currency has clearing accounts: their number and net balance as
   * read. Across every region it is what is in flight between regions (debited, not yet credited
   * or returned); a home-scoped audit sees its own region's side.
   */
  readonly clearing?: { readonly accounts: number; readonly net: bigint };
}

export interface SettledAudit {
  readonly differences: readonly Difference[];
  readonly currencies: readonly CurrencyTotal[];
}

/**
 * Turns findings into differences once the suspects were re-checked: `settled` transfers were in
 * flight (their fresh reads agree); `still` holds the latest finding of those that did not settle
 * (absent: the first finding stands). With nothing settled, every suspect is a difference.
 */
export function settleAudit(
  findings: LedgerFindings,
  settled: ReadonlySet<string>,
  still: ReadonlyMap<string, TransferFinding> = new Map(),
): SettledAudit {
  const differences: Difference[] = [...findings.accountDifferences];
  for (const [id, first] of findings.transferFindings) {
    if (settled.has(id)) continue;
    const f = still.get(id) ?? first;
    const v = f.voided[0];
    differences.push({
      kind: f.kind,
      transferId: id,
      ...(v === undefined ? {} : { accountId: v.accountId, version: v.stamp.version, epoch: v.stamp.epoch }),
      ...(f.currency === undefined ? {} : { currency: f.currency }),
      ...(f.net === 0n ? {} : { amount: f.net }),
      message: f.message,
    });
  }
  for (const h of findings.holdFindings) {
    const open = h.suspects.filter((id) => !settled.has(id));
    if (h.suspects.length > 0 && open.length === 0) continue;
    const diff = h.heldAmount - h.activeHolds;
    differences.push({
      kind: DifferenceKind.ACTIVE_HOLDS_MISMATCH,
      accountId: h.accountId,
      currency: h.currency,
      amount: diff,
      message:
        `account ${h.accountId}: held amount ${h.heldAmount} but its HELD transfers sum to ${h.activeHolds} ` +
        `(${signed(diff)} ${h.currency})${open.length === 0 ? '' : `; transfers on one side only: ${open.join(', ')}`}`,
    });
  }
  const currencies = settleTotals(findings, settled);
  for (const c of currencies) {
    if (c.total === 0n) continue;
    differences.push({
      kind: DifferenceKind.CURRENCY_TOTAL,
      currency: c.currency,
      amount: c.total,
      message: `${c.currency}: the balances sum to ${signed(c.total)}, not 0 (as read ${c.readTotal}, in flight ${c.inFlight})`,
    });
  }
  return { differences: differences.sort(byCheckThenName), currencies };
}

function settleTotals(findings: LedgerFindings, settled: ReadonlySet<string>): CurrencyTotal[] {
  const inFlight = new Map<string, bigint>();
  for (const id of settled) {
    for (const line of findings.linesByTransfer.get(id) ?? []) {
      inFlight.set(line.currency, (inFlight.get(line.currency) ?? 0n) + moneyEffect(line));
    }
  }
  const currencies = new Set([...findings.readTotals.keys(), ...inFlight.keys()]);
  return [...currencies].sort().map((currency) => {
    const read = findings.readTotals.get(currency);
    const readTotal = read?.total ?? 0n;
    const flight = inFlight.get(currency) ?? 0n;
    return {
      currency,
      accounts: read?.accounts ?? 0,
      readTotal,
      inFlight: flight,
      total: readTotal - flight,
      ...(read === undefined || read.clearingAccounts === 0
        ? {}
        : { clearing: { accounts: read.clearingAccounts, net: read.clearingNet } }),
    };
  });
}

function byCheckThenName(a: Difference, b: Difference): number {
  const name = (d: Difference) =>
    `${CHECK_OF[d.kind]} ${d.accountId ?? ''} ${d.transferId ?? ''} ${d.currency ?? ''}`;
  return name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0;
}

function sum(values: Iterable<bigint>): bigint {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

/** JSON with money as decimal strings (bigint has no JSON form). */
export function auditJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), space);
}
