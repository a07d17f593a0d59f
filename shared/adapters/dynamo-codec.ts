import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Metadata } from '../domain/identifiers.js';
import {
  type Account,
  type AccountFork,
  type AccountRequestOutcome,
  AccountStatus,
  type CreditLeg,
  type JournalLine,
  type JournalPage,
  type LineType,
  type RejectionReason,
  type Transfer,
  type TransferAction,
  TransferStatus,
} from '../domain/ledger.js';
import { parseStoredMinorUnits } from '../domain/money.js';

/** Item <-> domain mapping for the ledger table. Money is stored as DynamoDB N (exact decimal). */
export type Item = Record<string, AttributeValue>;

/** The sparse scheduler index is spread over this many partitions so none runs hot. */
export const SCHEDULE_SHARDS = 16;

export const accountKey = (id: string): Item => ({ pk: { S: `ACCT#${id}` }, sk: { S: 'ACCT' } });
export const transferKey = (id: string): Item => ({ pk: { S: `XFER#${id}` }, sk: { S: 'XFER' } });
/** The credit leg of a cross-region transfer: same partition as the transfer, its own item and writer. */
export const legKey = (transferId: string): Item => ({
  pk: { S: `XFER#${transferId}` },
  sk: { S: 'LEG#CREDIT' },
});
/** A region's control item (ACTIVE, or FENCED after a failover), written by the failover command. */
export const regionKey = (region: string): Item => ({ pk: { S: `REGION#${region}` }, sk: { S: 'REGION' } });
/** Versions are zero-padded so that the sort key orders pages by version. */
export const pageSortKey = (version: bigint): string => `E#${version.toString().padStart(20, '0')}`;

export class CorruptItemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptItemError';
  }
}

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: bigint | number): AttributeValue => ({ N: value.toString() });

function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no string ${name}`);
  return v;
}
function num(item: Item, name: string): bigint {
  const v = item[name]?.N;
  if (v === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no number ${name}`);
  return parseStoredMinorUnits(v);
}
/** Optional attributes: present in the result only when present in the item. */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
function optNum(item: Item, name: string): bigint | undefined {
  const v = item[name]?.N;
  return v === undefined ? undefined : parseStoredMinorUnits(v);
}
function metadataOf(item: Item): { metadata?: Metadata } {
  const m = item.metadata?.M;
  if (m === undefined) return {};
  return { metadata: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.S ?? ''])) };
}
function metadataAttr(m: Metadata | undefined): Item {
  if (m === undefined) return {};
  return { metadata: { M: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, S(v)])) } };
}
function optS(name: string, value: string | undefined): Item {
  return value === undefined ? {} : { [name]: S(value) };
}
function optN(name: string, value: bigint | number | undefined): Item {
  return value === undefined ? {} : { [name]: N(value) };
}

const ACCOUNT_STATUSES = new Set<string>(Object.values(AccountStatus));

export function accountFromItem(item: Item): Account {
  const status = item.status?.S ?? AccountStatus.OPEN;
  if (!ACCOUNT_STATUSES.has(status))
    throw new CorruptItemError(`account ${str(item, 'id')} has status ${status}`);
  const last = item.lastRequest?.S;
  return {
    id: str(item, 'id'),
    currency: str(item, 'currency'),
    balance: num(item, 'balance'),
    heldAmount: optNum(item, 'heldAmount') ?? 0n,
    ...opt('inFlightAmount', optNum(item, 'inFlightAmount')),
    overdraftLimit: num(item, 'overdraftLimit'),
    status: status as AccountStatus,
    version: num(item, 'version'),
    homeRegion: str(item, 'homeRegion'),
    epoch: optNum(item, 'epoch') ?? 1n,
    ...opt('forks', forksOf(item.forks?.S)),
    fingerprint: str(item, 'fingerprint'),
    createdAt: str(item, 'createdAt'),
    updatedAt: str(item, 'updatedAt'),
    ...opt('lastRequest', last === undefined ? undefined : (JSON.parse(last) as AccountRequestOutcome)),
    ...opt(
      'recentRequestIds',
      item.recentRequestIds?.L?.flatMap((v) => (v.S === undefined ? [] : [v.S])),
    ),
    ...metadataOf(item),
  };
}

export function accountItem(a: Account): Item {
  return {
    ...accountKey(a.id),
    kind: S('account'),
    id: S(a.id),
    currency: S(a.currency),
    balance: N(a.balance),
    heldAmount: N(a.heldAmount),
    ...optN('inFlightAmount', a.inFlightAmount),
    overdraftLimit: N(a.overdraftLimit),
    status: S(a.status),
    version: N(a.version),
    homeRegion: S(a.homeRegion),
    epoch: N(a.epoch),
    ...optS('forks', a.forks === undefined ? undefined : JSON.stringify(a.forks.map(forkJson))),
    fingerprint: S(a.fingerprint),
    createdAt: S(a.createdAt),
    updatedAt: S(a.updatedAt),
    ...optS('lastRequest', a.lastRequest === undefined ? undefined : JSON.stringify(a.lastRequest)),
    ...(a.recentRequestIds === undefined ? {} : { recentRequestIds: { L: a.recentRequestIds.map(S) } }),
    ...metadataAttr(a.metadata),
  };
}

function forkJson(f: AccountFork) {
  return { epoch: f.epoch.toString(), version: f.version.toString(), from: f.from, to: f.to, at: f.at };
}

function forksOf(json: string | undefined): AccountFork[] | undefined {
  if (json === undefined) return undefined;
  const raw = JSON.parse(json) as { epoch: string; version: string; from: string; to: string; at: string }[];
  return raw.map((f) => ({
    epoch: BigInt(f.epoch),
    version: BigInt(f.version),
    from: f.from,
    to: f.to,
    at: f.at,
  }));
}

const TRANSFER_STATUSES = new Set<string>(Object.values(TransferStatus));

export function transferFromItem(item: Item): Transfer {
  const status = str(item, 'status');
  if (!TRANSFER_STATUSES.has(status))
    throw new CorruptItemError(`transfer ${str(item, 'id')} has status ${status}`);
  const actions = item.actions?.S;
  const hold = item.holdTimeoutSeconds?.N;
  return {
    id: str(item, 'id'),
    debitAccountId: str(item, 'debitAccountId'),
    creditAccountId: str(item, 'creditAccountId'),
    amount: num(item, 'amount'),
    currency: str(item, 'currency'),
    fingerprint: str(item, 'fingerprint'),
    status: status as TransferStatus,
    acceptedAt: str(item, 'acceptedAt'),
    revision: optNum(item, 'revision') ?? 0n,
    ...opt('reference', item.reference?.S),
    ...opt('reason', item.reason?.S as RejectionReason | undefined),
    ...opt('holdTimeoutSeconds', hold === undefined ? undefined : Number(hold)),
    ...opt('reversalOf', item.reversalOf?.S),
    ...opt('groupId', item.groupId?.S),
    ...opt('postedAt', item.postedAt?.S),
    ...opt('rejectedAt', item.rejectedAt?.S),
    ...opt('heldAt', item.heldAt?.S),
    ...opt('holdExpiresAt', item.holdExpiresAt?.S),
    ...opt('capturedAmount', optNum(item, 'capturedAmount')),
    ...opt('releasedAt', item.releasedAt?.S),
    ...opt('reversedBy', item.reversedBy?.S),
    ...opt('creditRegion', item.creditRegion?.S),
    ...opt('clearingAccountId', item.clearingAccountId?.S),
    ...opt('debitedAt', item.debitedAt?.S),
    ...opt('returnedAt', item.returnedAt?.S),
    ...opt('appliedEpoch', optNum(item, 'appliedEpoch')),
    ...opt('appliedVersion', optNum(item, 'appliedVersion')),
    ...opt(
      'actions',
      actions === undefined ? undefined : (JSON.parse(actions) as Record<string, TransferAction>),
    ),
    ...metadataOf(item),
  };
}

/**
 * The whole transfer item. While ACCEPTED it sits in the scheduler index under PENDING (the
 * reconciler re-enqueues it if it stays there); while HELD, under HOLD by expiry time (the sweeper
 * expires it); once final it leaves the index.
 */
export function transferItem(t: Transfer): Item {
  return {
    ...transferKey(t.id),
    kind: S('transfer'),
    id: S(t.id),
    debitAccountId: S(t.debitAccountId),
    creditAccountId: S(t.creditAccountId),
    amount: N(t.amount),
    currency: S(t.currency),
    fingerprint: S(t.fingerprint),
    status: S(t.status),
    acceptedAt: S(t.acceptedAt),
    revision: N(t.revision),
    ...optS('reference', t.reference),
    ...optS('reason', t.reason),
    ...optN('holdTimeoutSeconds', t.holdTimeoutSeconds),
    ...optS('reversalOf', t.reversalOf),
    ...optS('groupId', t.groupId),
    ...optS('postedAt', t.postedAt),
    ...optS('rejectedAt', t.rejectedAt),
    ...optS('heldAt', t.heldAt),
    ...optS('holdExpiresAt', t.holdExpiresAt),
    ...optN('capturedAmount', t.capturedAmount),
    ...optS('releasedAt', t.releasedAt),
    ...optS('reversedBy', t.reversedBy),
    ...optS('creditRegion', t.creditRegion),
    ...optS('clearingAccountId', t.clearingAccountId),
    ...optS('debitedAt', t.debitedAt),
    ...optS('returnedAt', t.returnedAt),
    ...optN('appliedEpoch', t.appliedEpoch),
    ...optN('appliedVersion', t.appliedVersion),
    ...optS('actions', t.actions === undefined ? undefined : JSON.stringify(t.actions)),
    ...metadataAttr(t.metadata),
    ...scheduleAttributes(t),
  };
}

function scheduleAttributes(t: Transfer): Item {
  if (t.status === TransferStatus.ACCEPTED) {
    return { gsi1pk: S(schedulePartition('PENDING', t.id)), gsi1sk: S(`${t.acceptedAt}#${t.id}`) };
  }
  // In flight across regions: the reconciler sends the credit leg again if it stays too long.
  if (t.status === TransferStatus.DEBITED) {
    return {
      gsi1pk: S(schedulePartition('PENDING', t.id)),
      gsi1sk: S(`${t.debitedAt ?? t.acceptedAt}#${t.id}`),
    };
  }
  if (t.status === TransferStatus.HELD && t.holdExpiresAt !== undefined) {
    return { gsi1pk: S(schedulePartition('HOLD', t.id)), gsi1sk: S(`${t.holdExpiresAt}#${t.id}`) };
  }
  return {};
}

export function schedulePartition(kind: 'PENDING' | 'HOLD', idOrShard: string | number): string {
  const shard =
    typeof idOrShard === 'number'
      ? idOrShard
      : createHash('sha256').update(idOrShard).digest().readUInt8(0) % SCHEDULE_SHARDS;
  return `${kind}#${shard.toString().padStart(2, '0')}`;
}

export function pageItem(p: JournalPage): Item {
  return {
    pk: S(`ACCT#${p.accountId}`),
    sk: S(pageSortKey(p.version)),
    kind: S('journal'),
    accountId: S(p.accountId),
    version: N(p.version),
    ...optN('epoch', p.epoch),
    currency: S(p.currency),
    postedAt: S(p.postedAt),
    lines: {
      L: p.lines.map((l) => ({
        M: {
          transferId: S(l.transferId),
          type: S(l.type),
          amount: N(l.amount),
          balanceAfter: N(l.balanceAfter),
          heldAfter: N(l.heldAfter),
          ...optS('counterpartyAccountId', l.counterpartyAccountId),
        },
      })),
    },
  };
}

export function pageFromItem(item: Item): JournalPage {
  return {
    accountId: str(item, 'accountId'),
    version: num(item, 'version'),
    ...opt('epoch', optNum(item, 'epoch')),
    currency: str(item, 'currency'),
    postedAt: str(item, 'postedAt'),
    lines: (item.lines?.L ?? []).map((v): JournalLine => {
      const m = v.M ?? {};
      return {
        transferId: str(m, 'transferId'),
        type: str(m, 'type') as LineType,
        amount: num(m, 'amount'),
        balanceAfter: num(m, 'balanceAfter'),
        heldAfter: num(m, 'heldAfter'),
        ...opt('counterpartyAccountId', m.counterpartyAccountId?.S),
      };
    }),
  };
}

export function legItem(l: CreditLeg): Item {
  return {
    ...legKey(l.transferId),
    kind: S('credit_leg'),
    transferId: S(l.transferId),
    debitAccountId: S(l.debitAccountId),
    creditAccountId: S(l.creditAccountId),
    amount: N(l.amount),
    currency: S(l.currency),
    outcome: S(l.outcome),
    ...optS('reason', l.reason),
    region: S(l.region),
    at: S(l.at),
    ...optN('appliedEpoch', l.appliedEpoch),
    ...optN('appliedVersion', l.appliedVersion),
  };
}

export function legFromItem(item: Item): CreditLeg {
  const outcome = str(item, 'outcome');
  if (outcome !== 'applied' && outcome !== 'failed')
    throw new CorruptItemError(`credit leg ${str(item, 'transferId')} has outcome ${outcome}`);
  return {
    transferId: str(item, 'transferId'),
    debitAccountId: str(item, 'debitAccountId'),
    creditAccountId: str(item, 'creditAccountId'),
    amount: num(item, 'amount'),
    currency: str(item, 'currency'),
    outcome,
    ...opt('reason', item.reason?.S as RejectionReason | undefined),
    region: str(item, 'region'),
    at: str(item, 'at'),
    ...opt('appliedEpoch', optNum(item, 'appliedEpoch')),
    ...opt('appliedVersion', optNum(item, 'appliedVersion')),
  };
}

/** A region's standing: ACTIVE (its consumer writes its accounts) or FENCED (failed over to `successor`). */
export interface RegionControl {
  readonly region: string;
  readonly status: 'ACTIVE' | 'FENCED';
  readonly successor?: string;
  readonly at: string;
}

export function regionControlItem(c: RegionControl): Item {
  return {
    ...regionKey(c.region),
    kind: S('region'),
    region: S(c.region),
    status: S(c.status),
    ...optS('successor', c.successor),
    at: S(c.at),
  };
}

export function regionControlFromItem(item: Item): RegionControl {
  const status = str(item, 'status');
  if (status !== 'ACTIVE' && status !== 'FENCED')
    throw new CorruptItemError(`region ${str(item, 'region')} has status ${status}`);
  return { region: str(item, 'region'), status, ...opt('successor', item.successor?.S), at: str(item, 'at') };
}

/**
 * The last-writer-wins clock of the local replicator (DynamoDB global tables keep their own): the
 * writer's time to the millisecond and its region, which orders equal times.
 */
export function writtenStamp(at: Date, region: string): Item {
  return { written: writtenValue(at, region) };
}

/** The stamp's value alone, for an UpdateItem's SET. */
export function writtenValue(at: Date, region: string): AttributeValue {
  return S(`${at.toISOString()}#${region}`);
}
