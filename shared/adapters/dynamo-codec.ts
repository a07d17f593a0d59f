import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Metadata } from '../domain/identifiers.js';
import {
  type Account,
  type EntryDirection,
  type RejectionReason,
  type StatementEntry,
  type Transfer,
  TransferStatus,
} from '../domain/ledger.js';
import { parseStoredMinorUnits } from '../domain/money.js';

/** Item <-> domain mapping for the ledger table. Money is stored as DynamoDB N (exact decimal). */
export type Item = Record<string, AttributeValue>;

export const accountKey = (id: string): Item => ({ pk: { S: `ACCT#${id}` }, sk: { S: 'ACCT' } });
export const transferKey = (id: string): Item => ({ pk: { S: `XFER#${id}` }, sk: { S: 'XFER' } });
/** Versions are zero-padded so that the sort key orders entries by version. */
export const entrySortKey = (version: bigint): string => `E#${version.toString().padStart(20, '0')}`;
export const entryKey = (accountId: string, version: bigint): Item => ({
  pk: { S: `ACCT#${accountId}` },
  sk: { S: entrySortKey(version) },
});

export class CorruptItemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptItemError';
  }
}

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: bigint): AttributeValue => ({ N: value.toString() });

function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no string ${name}`);
  return v;
}
function optStr(item: Item, name: string): string | undefined {
  return item[name]?.S;
}
function num(item: Item, name: string): bigint {
  const v = item[name]?.N;
  if (v === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no number ${name}`);
  return parseStoredMinorUnits(v);
}
function optNum(item: Item, name: string): bigint | undefined {
  const v = item[name]?.N;
  return v === undefined ? undefined : parseStoredMinorUnits(v);
}
function metadataOf(item: Item): { metadata?: Metadata } {
  const m = item.metadata?.M;
  if (m === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = v.S ?? '';
  return { metadata: out };
}
export function metadataAttr(m: Metadata | undefined): Item {
  if (m === undefined) return {};
  return { metadata: { M: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, S(v)])) } };
}

export function accountFromItem(item: Item): Account {
  return {
    id: str(item, 'id'),
    currency: str(item, 'currency'),
    balance: num(item, 'balance'),
    overdraftLimit: num(item, 'overdraftLimit'),
    version: num(item, 'version'),
    homeRegion: str(item, 'homeRegion'),
    fingerprint: str(item, 'fingerprint'),
    createdAt: str(item, 'createdAt'),
    updatedAt: str(item, 'updatedAt'),
    ...metadataOf(item),
  };
}

const STATUSES = new Set<string>(Object.values(TransferStatus));

export function transferFromItem(item: Item): Transfer {
  const status = str(item, 'status');
  if (!STATUSES.has(status)) throw new CorruptItemError(`transfer ${str(item, 'id')} has status ${status}`);
  const reference = optStr(item, 'reference');
  const reason = optStr(item, 'reason');
  const postedAt = optStr(item, 'postedAt');
  const rejectedAt = optStr(item, 'rejectedAt');
  const debitBalanceAfter = optNum(item, 'debitBalanceAfter');
  const creditBalanceAfter = optNum(item, 'creditBalanceAfter');
  return {
    id: str(item, 'id'),
    debitAccountId: str(item, 'debitAccountId'),
    creditAccountId: str(item, 'creditAccountId'),
    amount: num(item, 'amount'),
    currency: str(item, 'currency'),
    fingerprint: str(item, 'fingerprint'),
    status: status as TransferStatus,
    acceptedAt: str(item, 'acceptedAt'),
    ...(reference === undefined ? {} : { reference }),
    ...(reason === undefined ? {} : { reason: reason as RejectionReason }),
    ...(postedAt === undefined ? {} : { postedAt }),
    ...(rejectedAt === undefined ? {} : { rejectedAt }),
    ...(debitBalanceAfter === undefined ? {} : { debitBalanceAfter }),
    ...(creditBalanceAfter === undefined ? {} : { creditBalanceAfter }),
    ...metadataOf(item),
  };
}

export function entryFromItem(item: Item): StatementEntry {
  return {
    accountId: str(item, 'accountId'),
    version: num(item, 'version'),
    transferId: str(item, 'transferId'),
    direction: str(item, 'direction') as EntryDirection,
    amount: num(item, 'amount'),
    currency: str(item, 'currency'),
    counterpartyAccountId: str(item, 'counterpartyAccountId'),
    balanceAfter: num(item, 'balanceAfter'),
    postedAt: str(item, 'postedAt'),
  };
}

export function entryItem(e: StatementEntry): Item {
  return {
    ...entryKey(e.accountId, e.version),
    kind: S('entry'),
    accountId: S(e.accountId),
    version: N(e.version),
    transferId: S(e.transferId),
    direction: S(e.direction),
    amount: N(e.amount),
    currency: S(e.currency),
    counterpartyAccountId: S(e.counterpartyAccountId),
    balanceAfter: N(e.balanceAfter),
    postedAt: S(e.postedAt),
  };
}
