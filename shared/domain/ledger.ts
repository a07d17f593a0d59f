import { createHash } from 'node:crypto';
import type { Metadata } from './identifiers.js';

/** Lifecycle of a transfer. ACCEPTED: recorded and queued, not yet applied. */
export const TransferStatus = {
  ACCEPTED: 'ACCEPTED',
  POSTED: 'POSTED',
  REJECTED: 'REJECTED',
} as const;
export type TransferStatus = (typeof TransferStatus)[keyof typeof TransferStatus];

/** Why the ledger refused to apply an accepted transfer. A business outcome, never retried. */
export const RejectionReason = {
  INSUFFICIENT_FUNDS: 'insufficient_funds',
  ACCOUNT_NOT_FOUND: 'account_not_found',
  CURRENCY_MISMATCH: 'currency_mismatch',
  SAME_ACCOUNT: 'same_account',
} as const;
export type RejectionReason = (typeof RejectionReason)[keyof typeof RejectionReason];

export const EntryDirection = { DEBIT: 'DEBIT', CREDIT: 'CREDIT' } as const;
export type EntryDirection = (typeof EntryDirection)[keyof typeof EntryDirection];

/** What a client asks to open. `homeRegion` is chosen by the server that receives the request. */
export interface AccountSpec {
  readonly id: string;
  readonly currency: string;
  readonly overdraftLimit: bigint;
  readonly metadata?: Metadata;
}

export interface Account extends AccountSpec {
  /** credits - debits, in minor units. Never below -overdraftLimit. */
  readonly balance: bigint;
  /** Incremented by every posting; the statement entry of a posting carries the version it produced. */
  readonly version: bigint;
  /** The only region whose consumer may write this account. */
  readonly homeRegion: string;
  readonly fingerprint: string;
  readonly createdAt: string;
  readonly updatedAt: string;
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
}

export interface Transfer extends TransferRequest {
  readonly status: TransferStatus;
  readonly reason?: RejectionReason;
  readonly fingerprint: string;
  readonly acceptedAt: string;
  readonly postedAt?: string;
  readonly rejectedAt?: string;
  readonly debitBalanceAfter?: bigint;
  readonly creditBalanceAfter?: bigint;
}

/** One line of an account's statement: the account's side of one posted transfer. */
export interface StatementEntry {
  readonly accountId: string;
  /** The account version this posting produced: the statement's order. */
  readonly version: bigint;
  readonly transferId: string;
  readonly direction: EntryDirection;
  readonly amount: bigint;
  readonly currency: string;
  readonly counterpartyAccountId: string;
  readonly balanceAfter: bigint;
  readonly postedAt: string;
}

export type TransferDecision =
  | { readonly outcome: 'reject'; readonly reason: RejectionReason }
  | { readonly outcome: 'post'; readonly debitBalanceAfter: bigint; readonly creditBalanceAfter: bigint }
  /** An account is homed in another region: this region must not write it. */
  | { readonly outcome: 'not_home'; readonly accountId: string; readonly homeRegion: string };

/**
 * The ledger rule for one transfer, given the accounts as read at their current version.
 * Order of checks is part of the contract: the first failing rule names the rejection.
 */
export function decideTransfer(
  transfer: TransferRequest,
  debit: Account | undefined,
  credit: Account | undefined,
  region: string,
): TransferDecision {
  if (transfer.amount <= 0n) throw new RangeError(`transfer ${transfer.id}: amount must be positive`);
  if (transfer.debitAccountId === transfer.creditAccountId) return reject(RejectionReason.SAME_ACCOUNT);
  if (debit === undefined || credit === undefined) return reject(RejectionReason.ACCOUNT_NOT_FOUND);
  if (debit.homeRegion !== region)
    return { outcome: 'not_home', accountId: debit.id, homeRegion: debit.homeRegion };
  if (credit.homeRegion !== region) {
    return { outcome: 'not_home', accountId: credit.id, homeRegion: credit.homeRegion };
  }
  if (debit.currency !== transfer.currency || credit.currency !== transfer.currency) {
    return reject(RejectionReason.CURRENCY_MISMATCH);
  }
  const debitBalanceAfter = debit.balance - transfer.amount;
  if (debitBalanceAfter < -debit.overdraftLimit) return reject(RejectionReason.INSUFFICIENT_FUNDS);
  const creditBalanceAfter = credit.balance + transfer.amount;
  // Double entry: what leaves one account arrives in the other, to the minor unit.
  assertConserved(debit.balance + credit.balance, debitBalanceAfter + creditBalanceAfter);
  return { outcome: 'post', debitBalanceAfter, creditBalanceAfter };
}

function reject(reason: RejectionReason): TransferDecision {
  return { outcome: 'reject', reason };
}

function assertConserved(before: bigint, after: bigint): void {
  if (before !== after) throw new Error(`ledger invariant broken: ${before} != ${after}`);
}

/** The two statement entries a posted transfer writes, one per account. */
export function entriesOf(
  transfer: TransferRequest,
  debit: Account,
  credit: Account,
  decision: { readonly debitBalanceAfter: bigint; readonly creditBalanceAfter: bigint },
  postedAt: string,
): readonly [StatementEntry, StatementEntry] {
  const common = { transferId: transfer.id, amount: transfer.amount, currency: transfer.currency, postedAt };
  return [
    {
      ...common,
      accountId: debit.id,
      version: debit.version + 1n,
      direction: EntryDirection.DEBIT,
      counterpartyAccountId: credit.id,
      balanceAfter: decision.debitBalanceAfter,
    },
    {
      ...common,
      accountId: credit.id,
      version: credit.version + 1n,
      direction: EntryDirection.CREDIT,
      counterpartyAccountId: debit.id,
      balanceAfter: decision.creditBalanceAfter,
    },
  ];
}

/**
 * A stable hash of what a client asked for: the idempotency check compares it, so the same
 * request (amount as "100" or 100, keys in any order) matches and a different body conflicts.
 */
export function transferFingerprint(t: TransferRequest): string {
  return fingerprint([
    'transfer/v1',
    t.id,
    t.debitAccountId,
    t.creditAccountId,
    t.amount.toString(),
    t.currency,
    t.reference ?? null,
    sortedEntries(t.metadata),
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
