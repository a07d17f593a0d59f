import {
  BatchGetItemCommand,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { AuditCreditLeg, AuditTransfer, ReadBudget } from '../domain/audit.js';
import { TransientLedgerError } from '../domain/errors.js';
import { TransferStatus } from '../domain/ledger.js';
import { parseStoredMinorUnits } from '../domain/money.js';
import type { LedgerScanner, PartitionItem, ScanResult } from '../ports/ledger-scanner.js';
import {
  accountFromItem,
  CorruptItemError,
  type Item,
  legKey,
  pageFromItem,
  pageSortKey,
  S,
  transferKey,
} from './dynamo-codec.js';

const BATCH_GET_KEYS_MAX = 100;
/** Each transfer read is two keys: the transfer item and its credit leg's (absent unless cross-region). */
const TRANSFERS_PER_BATCH_MAX = BATCH_GET_KEYS_MAX / 2;
/** Rounds of BatchGetItem for unprocessed keys before giving up (throttling). */
const READ_ROUNDS_MAX = 5;
const ACCOUNT_PREFIX = 'ACCT#';
const TRANSFER_PREFIX = 'XFER#';
const TRANSFER_SK = 'XFER';
const LEG_SK = 'LEG#CREDIT';

/**
 * The attributes the audit needs of an item found by the Scan. Journal pages come back as keys
 * only (their lines are read per account, see readPartition); this saves transfer, not read units:
 * a Scan is billed for the whole items it reads.
 */
const SCAN_NAMES = {
  '#pk': 'pk',
  '#sk': 'sk',
  '#id': 'id',
  '#status': 'status',
  '#amount': 'amount',
  '#captured': 'capturedAmount',
  '#debit': 'debitAccountId',
  '#credit': 'creditAccountId',
  '#currency': 'currency',
  '#hold': 'holdTimeoutSeconds',
  '#home': 'homeRegion',
  '#creditRegion': 'creditRegion',
  '#clearing': 'clearingAccountId',
  '#appliedEpoch': 'appliedEpoch',
  '#appliedVersion': 'appliedVersion',
  '#transferId': 'transferId',
  '#outcome': 'outcome',
  '#region': 'region',
} as const;
const SCAN_PROJECTION = Object.keys(SCAN_NAMES).join(', ');
const TRANSFER_STATUSES = new Set<string>(Object.values(TransferStatus));

/** What a scan gathers: account partitions (with their home when the account item was seen), transfers, legs. */
interface Collected {
  readonly accounts: Map<string, string | undefined>;
  readonly transfers: AuditTransfer[];
  readonly legs: Map<string, AuditCreditLeg>;
}

/**
 * Read-only access to the whole ledger table for the audit: a parallel Scan that finds every account
 * and transfer (with its credit leg, same partition), a consistent Query per account partition, and
 * consistent reads of transfers. Every request is counted against the run's ReadBudget, which bounds
 * every loop here.
 */
export class DynamoLedgerScanner implements LedgerScanner {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Eventually consistent parallel Scan (half the read units of a consistent one): a stale item only
   * makes a transfer a suspect, and suspects are re-read consistently before anything is reported.
   */
  async scan(options: { segments: number; pageSize: number; budget: ReadBudget }): Promise<ScanResult> {
    const result: Collected = { accounts: new Map(), transfers: [], legs: new Map() };
    const segments = Array.from({ length: options.segments }, (_, segment) => segment);
    await Promise.all(segments.map((segment) => this.scanSegment(segment, options, result)));
    return {
      accounts: [...result.accounts].map(([id, homeRegion]) => ({ id, homeRegion })),
      // A leg without its transfer item (not replicated yet) has nothing to be checked against: its
      // lines, if any, show as lines of a transfer without an item.
      transfers: result.transfers.map((t) => withLeg(t, result.legs.get(t.id))),
    };
  }

  private async scanSegment(
    segment: number,
    options: { segments: number; pageSize: number; budget: ReadBudget },
    into: Collected,
  ): Promise<void> {
    let startKey: Item | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          Segment: segment,
          TotalSegments: options.segments,
          Limit: options.pageSize,
          ProjectionExpression: SCAN_PROJECTION,
          ExpressionAttributeNames: SCAN_NAMES,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      options.budget.spend(out.ScannedCount ?? out.Items?.length ?? 0);
      for (const item of out.Items ?? []) collect(item, into);
      startKey = out.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  /**
   * One account's partition with ConsistentRead, in sort-key order: the account item (`ACCT`) first,
   * then its journal pages (`E#<version>`) by version. With `afterVersion`, only pages above it.
   */
  async *readPartition(
    accountId: string,
    options: { pageSize: number; budget: ReadBudget; afterVersion?: bigint },
  ): AsyncGenerator<PartitionItem> {
    const after = options.afterVersion;
    let startKey: Item | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: after === undefined ? '#pk = :pk' : '#pk = :pk AND #sk > :after',
          ExpressionAttributeNames: after === undefined ? { '#pk': 'pk' } : { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: {
            ':pk': S(`${ACCOUNT_PREFIX}${accountId}`),
            ...(after === undefined ? {} : { ':after': S(pageSortKey(after)) }),
          },
          ConsistentRead: true,
          Limit: options.pageSize,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      options.budget.spend(out.Items?.length ?? 0);
      for (const item of out.Items ?? []) {
        const sk = item.sk?.S ?? '';
        if (sk === 'ACCT') yield { kind: 'account', account: accountFromItem(item) };
        else if (sk.startsWith('E#')) yield { kind: 'page', page: pageFromItem(item) };
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  /**
   * Strongly consistent reads of transfers with their credit legs, 100 keys a request, re-asking for
   * unprocessed keys (bounded).
   */
  async getTransfers(ids: readonly string[], budget: ReadBudget): Promise<Map<string, AuditTransfer>> {
    const found = new Map<string, AuditTransfer>();
    const legs = new Map<string, AuditCreditLeg>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += TRANSFERS_PER_BATCH_MAX) {
      let pending: Item[] = unique
        .slice(i, i + TRANSFERS_PER_BATCH_MAX)
        .flatMap((id) => [transferKey(id), legKey(id)]);
      for (let round = 0; pending.length > 0; round++) {
        if (round >= READ_ROUNDS_MAX)
          throw new TransientLedgerError('transfer reads throttled (unprocessed keys)');
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
        const out = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ProjectionExpression: SCAN_PROJECTION,
                ExpressionAttributeNames: SCAN_NAMES,
              },
            },
          }),
        );
        const items = out.Responses?.[this.tableName] ?? [];
        budget.spend(items.length);
        for (const item of items) {
          if (item.sk?.S === LEG_SK) {
            const { transferId, leg } = auditLegFromItem(item);
            legs.set(transferId, leg);
          } else {
            const t = auditTransferFromItem(item);
            found.set(t.id, t);
          }
        }
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    for (const [id, t] of found) found.set(id, withLeg(t, legs.get(id)));
    return found;
  }
}

function withLeg(t: AuditTransfer, leg: AuditCreditLeg | undefined): AuditTransfer {
  return leg === undefined ? t : { ...t, leg };
}

function collect(item: Item, into: Collected): void {
  const pk = item.pk?.S ?? '';
  if (pk.startsWith(ACCOUNT_PREFIX)) {
    const id = pk.slice(ACCOUNT_PREFIX.length);
    // A partition seen only through its pages still gets audited (journal without account).
    if (item.sk?.S === 'ACCT') into.accounts.set(id, item.homeRegion?.S);
    else if (!into.accounts.has(id)) into.accounts.set(id, undefined);
  } else if (pk.startsWith(TRANSFER_PREFIX) && item.sk?.S === TRANSFER_SK) {
    into.transfers.push(auditTransferFromItem(item));
  } else if (pk.startsWith(TRANSFER_PREFIX) && item.sk?.S === LEG_SK) {
    const { transferId, leg } = auditLegFromItem(item);
    into.legs.set(transferId, leg);
  }
}

const text = (item: Item, name: string): string => {
  const v = item[name]?.S;
  if (v === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no string ${name}`);
  return v;
};

const money = (item: Item, name: string): bigint => {
  const v = item[name]?.N;
  if (v === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no number ${name}`);
  return parseStoredMinorUnits(v);
};

/** The recovery point a record carries, when it has one. */
function appliedStampOf(item: Item): { appliedEpoch?: bigint; appliedVersion?: bigint } {
  const epoch = item.appliedEpoch?.N;
  const version = item.appliedVersion?.N;
  return {
    ...(epoch === undefined ? {} : { appliedEpoch: parseStoredMinorUnits(epoch) }),
    ...(version === undefined ? {} : { appliedVersion: parseStoredMinorUnits(version) }),
  };
}

/** The audit's view of a credit leg item (the projected attributes). Throws CorruptItemError. */
export function auditLegFromItem(item: Item): { transferId: string; leg: AuditCreditLeg } {
  const outcome = text(item, 'outcome');
  if (outcome !== 'applied' && outcome !== 'failed')
    throw new CorruptItemError(`credit leg ${text(item, 'transferId')} has outcome ${outcome}`);
  return {
    transferId: text(item, 'transferId'),
    leg: { outcome, region: text(item, 'region'), amount: money(item, 'amount'), ...appliedStampOf(item) },
  };
}

/** The audit's view of a transfer item (the projected attributes). Throws CorruptItemError. */
export function auditTransferFromItem(item: Item): AuditTransfer {
  const status = text(item, 'status');
  if (!TRANSFER_STATUSES.has(status))
    throw new CorruptItemError(`transfer ${text(item, 'id')} has status ${status}`);
  const captured = item.capturedAmount?.N;
  const creditRegion = item.creditRegion?.S;
  const clearing = item.clearingAccountId?.S;
  return {
    id: text(item, 'id'),
    status: status as TransferStatus,
    debitAccountId: text(item, 'debitAccountId'),
    creditAccountId: text(item, 'creditAccountId'),
    amount: money(item, 'amount'),
    currency: text(item, 'currency'),
    isHold: item.holdTimeoutSeconds?.N !== undefined,
    ...(captured === undefined ? {} : { capturedAmount: parseStoredMinorUnits(captured) }),
    ...(creditRegion === undefined ? {} : { creditRegion }),
    ...(clearing === undefined ? {} : { clearingAccountId: clearing }),
    ...appliedStampOf(item),
  };
}
