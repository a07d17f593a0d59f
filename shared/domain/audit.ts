import { LedgerError } from './errors.js';
import {
  type Account,
  availableBalance,
  type JournalLine,
  type JournalPage,
  LineType,
  TransferStatus,
} from './ledger.js';
import { formatMinorUnits } from './money.js';

/**
 * The ledger audit's pure checks. The service feeds them what it read; they never read anything.
 *
 * 1. per currency, the balances sum to zero (every posted transfer's lines pair up across accounts);
 * 2. each account's balance and held amount follow from its journal (the line chain replays);
 * 3. each account's held amount is the sum of its active holds (transfers HELD debiting it);
 * 4. no account's available balance is below -overdraftLimit.
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
} as const;
export type DifferenceKind = (typeof DifferenceKind)[keyof typeof DifferenceKind];

/** Which of the four checks each kind of difference fails. */
export const CHECK_OF: Readonly<Record<DifferenceKind, 1 | 2 | 3 | 4>> = {
  currency_total: 1,
  unpaired_transfer: 1,
  transfer_lines_mismatch: 1,
  balance_mismatch: 2,
  held_mismatch: 2,
  chain_break: 2,
  journal_without_account: 2,
  active_holds_mismatch: 3,
  below_limit: 4,
};

export const CHECK_TITLES = {
  1: 'per currency, the balances sum to zero (transfers pair up)',
  2: 'balances and held amounts follow from the journal',
  3: 'held amounts equal the active holds',
  4: 'no account below its overdraft limit',
} as const;

/** One thing the audit found wrong, named by account and/or transfer. */
export interface Difference {
  readonly kind: DifferenceKind;
  readonly accountId?: string;
  readonly transferId?: string;
  readonly currency?: string;
  /** What the ledger says minus what it should say, in minor units, when the difference is an amount. */
  readonly amount?: bigint;
  readonly message: string;
}

/** Chain breaks named per account at most; the rest are counted in one more difference. */
export const CHAIN_BREAKS_NAMED_MAX = 5;

/** The account fields the audit uses. */
export type AuditedAccount = Pick<
  Account,
  'id' | 'currency' | 'balance' | 'heldAmount' | 'overdraftLimit' | 'version' | 'homeRegion'
>;

/** The transfer fields the audit uses. */
export interface AuditTransfer {
  readonly id: string;
  readonly status: TransferStatus;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  /** Present on a hold (the request had `holdTimeoutSeconds`). */
  readonly isHold: boolean;
  readonly capturedAmount?: bigint;
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

/**
 * Replays one account's journal, page by page in version order, against its account item read just
 * before the pages. Pages newer than the item are skipped: every page at or below the item's version
 * was committed with or before that version (versions only grow), so item + those pages are one
 * consistent snapshot even when writes land during the read.
 */
export class JournalReplay {
  private balance = 0n;
  private held = 0n;
  /** Sum of the money lines: CREDIT - DEBIT - CAPTURE. */
  private posted = 0n;
  private pages = 0;
  private beyond = 0;
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
    if (this.account !== undefined && page.version > this.account.version) {
      this.beyond++;
      return;
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
      openHolds: this.openHolds,
      differences: this.differences,
    };
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

/** A transfer's lines that disagree with its status; settled as in flight, or reported. */
export interface TransferFinding {
  readonly transferId: string;
  readonly kind: typeof DifferenceKind.UNPAIRED_TRANSFER | typeof DifferenceKind.TRANSFER_LINES_MISMATCH;
  readonly currency: string | undefined;
  /** CREDIT - DEBIT - CAPTURE over the lines seen: what these lines add to their currency's total. */
  readonly net: bigint;
  /** The accounts to read again: the transfer's two and any account its lines are on. */
  readonly accountIds: readonly string[];
  readonly message: string;
}

type ExpectedLine = Pick<AuditLine, 'accountId' | 'type' | 'amount' | 'counterpartyAccountId'>;

/** The lines a transfer in its status has made, exactly (nothing for ACCEPTED and REJECTED). */
export function expectedLinesOf(t: AuditTransfer): ExpectedLine[] {
  const line = (
    accountId: string,
    type: LineType,
    amount: bigint,
    counterpartyAccountId: string,
  ): ExpectedLine => ({
    accountId,
    type,
    amount,
    counterpartyAccountId,
  });
  const { debitAccountId: debit, creditAccountId: credit } = t;
  const hold = line(debit, LineType.HOLD, t.amount, credit);
  switch (t.status) {
    case TransferStatus.HELD:
      return [hold];
    case TransferStatus.VOIDED:
    case TransferStatus.EXPIRED:
      return [hold, line(debit, LineType.RELEASE, t.amount, credit)];
    case TransferStatus.POSTED: {
      if (!t.isHold)
        return [
          line(debit, LineType.DEBIT, t.amount, credit),
          line(credit, LineType.CREDIT, t.amount, debit),
        ];
      const captured = t.capturedAmount ?? t.amount;
      return [
        hold,
        line(debit, LineType.CAPTURE, captured, credit),
        line(credit, LineType.CREDIT, captured, debit),
      ];
    }
    default:
      return [];
  }
}

/** What `line` adds to its account's balance. */
export function moneyEffect(line: Pick<AuditLine, 'type' | 'amount'>): bigint {
  if (line.type === LineType.CREDIT) return line.amount;
  if (line.type === LineType.DEBIT || line.type === LineType.CAPTURE) return -line.amount;
  return 0n;
}

const lineKey = (l: ExpectedLine): string =>
  `${l.type} ${l.amount} on ${l.accountId} (with ${l.counterpartyAccountId ?? '?'})`;

/**
 * Checks one transfer against every line carrying its id: the lines must be exactly those its status
 * implies (a POSTED transfer: DEBIT on the debit account and CREDIT on the credit account, same amount;
 * a captured hold: HOLD, CAPTURE and CREDIT; ...). Undefined when they are.
 */
export function checkTransfer(
  transferId: string,
  transfer: AuditTransfer | undefined,
  lines: readonly AuditLine[],
): TransferFinding | undefined {
  const expected = transfer === undefined ? [] : expectedLinesOf(transfer).map(lineKey);
  const actual = lines.map(lineKey);
  const missing = multisetMinus(expected, actual);
  const unexpected = multisetMinus(actual, expected);
  if (missing.length === 0 && unexpected.length === 0) return undefined;
  const net = sum(lines.map(moneyEffect));
  const accountIds = new Set(lines.map((l) => l.accountId));
  if (transfer !== undefined) {
    accountIds.add(transfer.debitAccountId);
    accountIds.add(transfer.creditAccountId);
  }
  const what =
    transfer === undefined
      ? `transfer ${transferId} (no transfer item)`
      : `transfer ${transferId} (${transfer.status}${transfer.isHold ? ' hold' : ''} ${transfer.amount} ${transfer.currency} ${transfer.debitAccountId} -> ${transfer.creditAccountId})`;
  const parts = [
    ...(net === 0n ? [] : [`its lines net to ${signed(net)}`]),
    ...(missing.length === 0 ? [] : [`missing ${missing.join(', ')}`]),
    ...(unexpected.length === 0 ? [] : [`unexpected ${unexpected.join(', ')}`]),
  ];
  return {
    transferId,
    kind: net === 0n ? DifferenceKind.TRANSFER_LINES_MISMATCH : DifferenceKind.UNPAIRED_TRANSFER,
    currency: transfer?.currency ?? lines[0]?.currency,
    net,
    accountIds: [...accountIds],
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
  /** Balances as read, per currency. */
  readonly readTotals: ReadonlyMap<string, { readonly accounts: number; readonly total: bigint }>;
}

/** Runs the four checks over per-account snapshots and the transfers as read. */
export function auditLedger(
  accounts: readonly AccountAudit[],
  transfers: ReadonlyMap<string, AuditTransfer>,
): LedgerFindings {
  const linesByTransfer = new Map<string, AuditLine[]>();
  const readTotals = new Map<string, { accounts: number; total: bigint }>();
  for (const a of accounts) {
    for (const line of a.lines) {
      const list = linesByTransfer.get(line.transferId) ?? [];
      list.push(line);
      linesByTransfer.set(line.transferId, list);
    }
    if (a.account === undefined) continue;
    const t = readTotals.get(a.account.currency) ?? { accounts: 0, total: 0n };
    readTotals.set(a.account.currency, { accounts: t.accounts + 1, total: t.total + a.account.balance });
  }
  const transferFindings = new Map<string, TransferFinding>();
  for (const id of new Set([...transfers.keys(), ...linesByTransfer.keys()])) {
    const finding = checkTransfer(id, transfers.get(id), linesByTransfer.get(id) ?? []);
    if (finding !== undefined) transferFindings.set(id, finding);
  }
  return {
    accountDifferences: accounts.flatMap((a) => a.differences),
    transferFindings,
    holdFindings: findHoldMismatches(accounts, transfers),
    linesByTransfer,
    readTotals,
  };
}

function findHoldMismatches(
  accounts: readonly AccountAudit[],
  transfers: ReadonlyMap<string, AuditTransfer>,
): HoldFinding[] {
  const heldBy = new Map<string, Map<string, bigint>>();
  for (const t of transfers.values()) {
    if (t.status !== TransferStatus.HELD) continue;
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
    differences.push({
      kind: f.kind,
      transferId: id,
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
    const read = findings.readTotals.get(currency) ?? { accounts: 0, total: 0n };
    const flight = inFlight.get(currency) ?? 0n;
    return {
      currency,
      accounts: read.accounts,
      readTotal: read.total,
      inFlight: flight,
      total: read.total - flight,
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
