import { createHash } from 'node:crypto';
import type { Metadata } from './identifiers.js';

/** Lifecycle of a transfer. ACCEPTED: recorded and queued, not yet applied. */
export const TransferStatus = {
  ACCEPTED: 'ACCEPTED',
  /** A hold: the amount is reserved on the debit account, not moved. */
  HELD: 'HELD',
  POSTED: 'POSTED',
  REJECTED: 'REJECTED',
  /** A hold released on request. */
  VOIDED: 'VOIDED',
  /** A hold released because its timeout passed. */
  EXPIRED: 'EXPIRED',
  /**
   * In between, for a transfer whose accounts live in different home regions: the debit is applied
   * at the debit account's home (the amount sits in that region's clearing account) and the credit
   * is on its way to the credit account's home. Ends POSTED, or RETURNED if the credit failed.
   */
  DEBITED: 'DEBITED',
  /** Final: the credit could not be applied at its home, so the debit was returned (see `reason`). */
  RETURNED: 'RETURNED',
} as const;
export type TransferStatus = (typeof TransferStatus)[keyof typeof TransferStatus];

/** Why the ledger refused to apply an accepted transfer. A business outcome, never retried. */
export const RejectionReason = {
  INSUFFICIENT_FUNDS: 'insufficient_funds',
  ACCOUNT_NOT_FOUND: 'account_not_found',
  CURRENCY_MISMATCH: 'currency_mismatch',
  SAME_ACCOUNT: 'same_account',
  ACCOUNT_FROZEN: 'account_frozen',
  ACCOUNT_CLOSED: 'account_closed',
  /** An atomic batch failed because another of its legs failed. */
  LINKED_TRANSFER_FAILED: 'linked_transfer_failed',
  /** A reversal of a transfer that is not POSTED or is already reversed. */
  TRANSFER_NOT_REVERSIBLE: 'transfer_not_reversible',
  /** An atomic batch whose accounts are homed in more than one region (it cannot be one transaction). */
  CROSS_REGION_GROUP: 'cross_region_group',
} as const;
export type RejectionReason = (typeof RejectionReason)[keyof typeof RejectionReason];

export const AccountStatus = { OPEN: 'OPEN', FROZEN: 'FROZEN', CLOSED: 'CLOSED' } as const;
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus];

/** Why an account change (PATCH) was refused. */
export const AccountChangeRefusal = {
  ACCOUNT_NOT_EMPTY: 'account_not_empty',
  ACCOUNT_CLOSED: 'account_closed',
  LIMIT_BELOW_BALANCE: 'limit_below_balance',
} as const;
export type AccountChangeRefusal = (typeof AccountChangeRefusal)[keyof typeof AccountChangeRefusal];

/** What one statement line did to its account. */
export const LineType = {
  DEBIT: 'DEBIT',
  CREDIT: 'CREDIT',
  /** A hold reserved `amount` (heldAmount up, balance unchanged). */
  HOLD: 'HOLD',
  /** A hold captured: balance down by `amount`, the whole hold released. */
  CAPTURE: 'CAPTURE',
  /** A hold voided or expired: heldAmount down by `amount`. */
  RELEASE: 'RELEASE',
  /** A cross-region debit given back because its credit failed: balance up by `amount`. */
  RETURN: 'RETURN',
} as const;
export type LineType = (typeof LineType)[keyof typeof LineType];

/** Holds end by themselves after this long unless captured or voided (default and bound). */
export const HOLD_TIMEOUT_SECONDS_DEFAULT = 7 * 24 * 3600;
export const HOLD_TIMEOUT_SECONDS_MAX = 30 * 24 * 3600;

/** What a client asks to open. `homeRegion` is chosen by the server that receives the request. */
export interface AccountSpec {
  readonly id: string;
  readonly currency: string;
  readonly overdraftLimit: bigint;
  readonly metadata?: Metadata;
}

/** The last PATCH applied to an account, so the API can tell the caller its outcome. */
export interface AccountRequestOutcome {
  readonly requestId: string;
  readonly outcome: 'applied' | 'refused';
  readonly reason?: AccountChangeRefusal;
}

/**
 * The start of a fencing epoch: from `version` on, only the epoch's home region wrote the account.
 * A failover (or failback) appends one; writes stamped with an older epoch at or past it are void.
 */
export interface AccountFork {
  readonly epoch: bigint;
  readonly version: bigint;
  readonly from: string;
  readonly to: string;
  readonly at: string;
}

export interface Account extends AccountSpec {
  /** credits - debits, in minor units. */
  readonly balance: bigint;
  /** Sum of the active holds debiting this account. */
  readonly heldAmount: bigint;
  /**
   * Debits of this account on their way to a credit in another region (DEBITED transfers): they may
   * still come back (RETURNED), so the account cannot be closed until they settle. Absent: 0.
   */
  readonly inFlightAmount?: bigint;
  readonly status: AccountStatus;
  /** Incremented by every write of the account; a statement page carries the version it produced. */
  readonly version: bigint;
  /** The only region whose consumer may write this account. */
  readonly homeRegion: string;
  /** Fencing epoch: 1 at opening, +1 at every re-homing (failover, failback). */
  readonly epoch: bigint;
  /** Epoch starts after the first (oldest first); absent for an account never re-homed. */
  readonly forks?: readonly AccountFork[];
  readonly fingerprint: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastRequest?: AccountRequestOutcome;
  /** The latest account-change request ids (at most ACCOUNT_REQUESTS_REMEMBERED), for idempotency. */
  readonly recentRequestIds?: readonly string[];
}

export const ACCOUNT_REQUESTS_REMEMBERED = 16;
/** A transfer keeps at most this many capture/void/expire records; the oldest ignored go first. */
export const TRANSFER_ACTIONS_MAX = 32;

/** balance - heldAmount: what a debit or a new hold may use (down to -overdraftLimit). */
export function availableBalance(a: Pick<Account, 'balance' | 'heldAmount'>): bigint {
  return a.balance - a.heldAmount;
}

export interface TransferRequest {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  /** Positive, in minor units. */
  readonly amount: bigint;
  readonly currency: string;
  readonly reference?: string;
  readonly metadata?: Metadata;
  /** Present for a hold: it reserves the amount until captured, voided or expired. */
  readonly holdTimeoutSeconds?: number;
  /** Present for a reversal: the transfer whose amount it moves back. */
  readonly reversalOf?: string;
  /** Present for a leg of an atomic batch. */
  readonly groupId?: string;
}

/** A capture, void or expiry seen by the ledger, keyed by its request id (idempotency). */
export interface TransferAction {
  readonly action: 'capture' | 'void' | 'expire';
  readonly at: string;
  readonly outcome: 'applied' | 'ignored';
  readonly reason?: string;
}

export interface Transfer extends TransferRequest {
  readonly status: TransferStatus;
  readonly reason?: RejectionReason;
  readonly fingerprint: string;
  readonly acceptedAt: string;
  /** Incremented by every ledger write of the transfer (optimistic concurrency). */
  readonly revision: bigint;
  readonly postedAt?: string;
  readonly rejectedAt?: string;
  readonly heldAt?: string;
  readonly holdExpiresAt?: string;
  readonly capturedAmount?: bigint;
  readonly releasedAt?: string;
  readonly reversedBy?: string;
  readonly actions?: Readonly<Record<string, TransferAction>>;
  /** Cross-region: the credit account's home region, where the credit is applied. */
  readonly creditRegion?: string;
  /** Cross-region: the clearing account that holds the amount between debit and credit. */
  readonly clearingAccountId?: string;
  readonly debitedAt?: string;
  readonly returnedAt?: string;
  /** Where the debit account stood after the write that applied this transfer (recovery point). */
  readonly appliedEpoch?: bigint;
  readonly appliedVersion?: bigint;
}

/**
 * The credit side of a cross-region transfer, written once by the credit account's home: the
 * credit applied (or why not). Keyed by transfer id; its own item, so each item has one writer.
 */
export interface CreditLeg {
  readonly transferId: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly outcome: 'applied' | 'failed';
  readonly reason?: RejectionReason;
  readonly region: string;
  readonly at: string;
  readonly appliedEpoch?: bigint;
  readonly appliedVersion?: bigint;
}

/** Clearing accounts per region and currency are striped so that parallel shards rarely collide. */
export const CLEARING_STRIPES = 4;
export const CLEARING_PREFIX = '@clearing:';
/** Clearing accounts may go negative without bound: they net to zero across regions. */
export const CLEARING_OVERDRAFT = 9_999_999_999_999_999_999n;

/**
 * The system account holding amounts between a cross-region debit and its credit. Its id starts
 * with '@', which client ids cannot contain, so no client can open, read or pay it directly.
 */
export function clearingAccountId(region: string, currency: string, accountId: string): string {
  const stripe = createHash('sha256').update(accountId).digest().readUInt8(0) % CLEARING_STRIPES;
  return `${CLEARING_PREFIX}${region}:${currency}:${stripe}`;
}

export function isClearingAccount(id: string): boolean {
  return id.startsWith(CLEARING_PREFIX);
}

/** The epoch in force at `version`: the latest fork at or before it (1 before any fork). */
export function epochAt(account: Pick<Account, 'forks'>, version: bigint): bigint {
  let epoch = 1n;
  for (const fork of account.forks ?? [])
    if (fork.version <= version && fork.epoch > epoch) epoch = fork.epoch;
  return epoch;
}

/**
 * True when a write stamped (epoch, version) was made by a region fenced off before it: a failover
 * took the account over at or below that version, so the write never counted (an unreplicated write
 * of the failed region, arrived after it returned). The audit names such records.
 */
export function isVoidedByFailover(
  stamp: { readonly appliedEpoch?: bigint; readonly appliedVersion?: bigint },
  account: Pick<Account, 'forks'> | undefined,
): boolean {
  if (stamp.appliedEpoch === undefined || stamp.appliedVersion === undefined || account === undefined)
    return false;
  return epochAt(account, stamp.appliedVersion) !== stamp.appliedEpoch;
}

/** One line of an account's statement. */
export interface JournalLine {
  readonly transferId: string;
  readonly type: LineType;
  readonly amount: bigint;
  readonly counterpartyAccountId?: string;
  readonly balanceAfter: bigint;
  readonly heldAfter: bigint;
}

/** The lines one ledger write added to one account, stored as one item at the version it made. */
export interface JournalPage {
  readonly accountId: string;
  readonly version: bigint;
  /** The account's epoch when written; a page whose epoch is not the one in force at its version is void. */
  readonly epoch?: bigint;
  readonly currency: string;
  readonly postedAt: string;
  readonly lines: readonly JournalLine[];
}

/** A statement line as read back: the line with its page's position and time. */
export interface StatementEntry extends JournalLine {
  readonly accountId: string;
  readonly version: bigint;
  /** Position of the line within its page (0-based). */
  readonly index: number;
  readonly currency: string;
  readonly postedAt: string;
}

export type TransferDecision =
  | { readonly outcome: 'reject'; readonly reason: RejectionReason }
  | { readonly outcome: 'post' }
  /** The credit account is homed in `creditRegion`: debit here, credit there (two steps). */
  | { readonly outcome: 'post_cross_region'; readonly creditRegion: string }
  /** The debit account is homed in another region: this region must not write it. */
  | { readonly outcome: 'not_home'; readonly accountId: string; readonly homeRegion: string };

/**
 * The ledger rule for moving (or reserving) money between two accounts as they stand now.
 * Order of checks is part of the contract: the first failing rule names the rejection. When the
 * credit account lives in another region its status is judged there (a failure returns the debit).
 */
export function decideTransfer(
  transfer: Pick<TransferRequest, 'id' | 'debitAccountId' | 'creditAccountId' | 'amount' | 'currency'>,
  debit: Account | undefined,
  credit: Account | undefined,
  region: string,
): TransferDecision {
  if (transfer.amount <= 0n) throw new RangeError(`transfer ${transfer.id}: amount must be positive`);
  if (transfer.debitAccountId === transfer.creditAccountId) return reject(RejectionReason.SAME_ACCOUNT);
  if (debit === undefined || credit === undefined) return reject(RejectionReason.ACCOUNT_NOT_FOUND);
  if (debit.homeRegion !== region) {
    return { outcome: 'not_home', accountId: debit.id, homeRegion: debit.homeRegion };
  }
  const crossRegion = credit.homeRegion !== region;
  const frozenOrClosed =
    accountStatusRejection(debit) ?? (crossRegion ? undefined : accountStatusRejection(credit));
  if (frozenOrClosed !== undefined) return reject(frozenOrClosed);
  if (debit.currency !== transfer.currency || credit.currency !== transfer.currency) {
    return reject(RejectionReason.CURRENCY_MISMATCH);
  }
  if (availableBalance(debit) - transfer.amount < -debit.overdraftLimit) {
    return reject(RejectionReason.INSUFFICIENT_FUNDS);
  }
  return crossRegion
    ? { outcome: 'post_cross_region', creditRegion: credit.homeRegion }
    : { outcome: 'post' };
}

export function accountStatusRejection(account: Account): RejectionReason | undefined {
  if (account.status === AccountStatus.CLOSED) return RejectionReason.ACCOUNT_CLOSED;
  if (account.status === AccountStatus.FROZEN) return RejectionReason.ACCOUNT_FROZEN;
  return undefined;
}

function reject(reason: RejectionReason): TransferDecision {
  return { outcome: 'reject', reason };
}

/**
 * A stable hash of what a client asked for: the idempotency check compares it, so the same
 * request (amount as "100" or 100, keys in any order) matches and a different body conflicts.
 */
export function transferFingerprint(t: TransferRequest): string {
  // v1 parts first, so a plain transfer keeps the fingerprint it had before holds existed; the
  // newer fields are appended only when present.
  return fingerprint([
    'transfer/v1',
    t.id,
    t.debitAccountId,
    t.creditAccountId,
    t.amount.toString(),
    t.currency,
    t.reference ?? null,
    sortedEntries(t.metadata),
    ...(t.holdTimeoutSeconds === undefined ? [] : [['hold', t.holdTimeoutSeconds]]),
    ...(t.reversalOf === undefined ? [] : [['reversalOf', t.reversalOf]]),
    ...(t.groupId === undefined ? [] : [['groupId', t.groupId]]),
  ]);
}

export function accountFingerprint(a: AccountSpec): string {
  return fingerprint([
    'account/v1',
    a.id,
    a.currency,
    a.overdraftLimit.toString(),
    sortedEntries(a.metadata),
  ]);
}

function sortedEntries(m: Metadata | undefined): [string, string][] | null {
  if (m === undefined) return null;
  return Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function fingerprint(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}
