import {
  BatchGetItemCommand,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { AuditTransfer, ReadBudget } from '../domain/audit.js';
import { TransientLedgerError } from '../domain/errors.js';
import { TransferStatus } from '../domain/ledger.js';
import { parseStoredMinorUnits } from '../domain/money.js';
import type { LedgerScanner, PartitionItem, ScanResult } from '../ports/ledger-scanner.js';
import {
  accountFromItem,
  CorruptItemError,
  type Item,
  pageFromItem,
  pageSortKey,
  S,
  transferKey,
} from './dynamo-codec.js';

const BATCH_GET_KEYS_MAX = 100;
/** Rounds of BatchGetItem for unprocessed keys before giving up (throttling). */
const READ_ROUNDS_MAX = 5;
const ACCOUNT_PREFIX = 'ACCT#';
const TRANSFER_PREFIX = 'XFER#';

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
} as const;
const SCAN_PROJECTION = Object.keys(SCAN_NAMES).join(', ');
const TRANSFER_STATUSES = new Set<string>(Object.values(TransferStatus));

/**
 * Read-only access to the whole ledger table for the audit: a parallel Scan that finds every account
 * and transfer, a consistent Query per account partition, and consistent reads of transfers. Every
 * request is counted against the run's ReadBudget, which bounds every loop here.
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
    const result: { accounts: Map<string, string | undefined>; transfers: AuditTransfer[] } = {
      accounts: new Map(),
      transfers: [],
    };
    const segments = Array.from({ length: options.segments }, (_, segment) => segment);
    await Promise.all(segments.map((segment) => this.scanSegment(segment, options, result)));
    return {
      accounts: [...result.accounts].map(([id, homeRegion]) => ({ id, homeRegion })),
      transfers: result.transfers,
    };
  }

  private async scanSegment(
    segment: number,
    options: { segments: number; pageSize: number; budget: ReadBudget },
    into: { accounts: Map<string, string | undefined>; transfers: AuditTransfer[] },
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

  /** Strongly consistent reads of transfers, 100 keys a request, re-asking for unprocessed keys (bounded). */
  async getTransfers(ids: readonly string[], budget: ReadBudget): Promise<Map<string, AuditTransfer>> {
    const found = new Map<string, AuditTransfer>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += BATCH_GET_KEYS_MAX) {
      let pending: Item[] = unique.slice(i, i + BATCH_GET_KEYS_MAX).map(transferKey);
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
          const t = auditTransferFromItem(item);
          found.set(t.id, t);
        }
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}

function collect(
  item: Item,
  into: { accounts: Map<string, string | undefined>; transfers: AuditTransfer[] },
): void {
  const pk = item.pk?.S ?? '';
  if (pk.startsWith(ACCOUNT_PREFIX)) {
    const id = pk.slice(ACCOUNT_PREFIX.length);
    // A partition seen only through its pages still gets audited (journal without account).
    if (item.sk?.S === 'ACCT') into.accounts.set(id, item.homeRegion?.S);
    else if (!into.accounts.has(id)) into.accounts.set(id, undefined);
  } else if (pk.startsWith(TRANSFER_PREFIX) && item.sk?.S === 'XFER') {
    into.transfers.push(auditTransferFromItem(item));
  }
}

/** The audit's view of a transfer item (the projected attributes). Throws CorruptItemError. */
export function auditTransferFromItem(item: Item): AuditTransfer {
  const text = (name: string): string => {
    const v = item[name]?.S;
    if (v === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no string ${name}`);
    return v;
  };
  const status = text('status');
  if (!TRANSFER_STATUSES.has(status))
    throw new CorruptItemError(`transfer ${text('id')} has status ${status}`);
  const amount = item.amount?.N;
  if (amount === undefined) throw new CorruptItemError(`item ${item.pk?.S ?? '?'} has no number amount`);
  const captured = item.capturedAmount?.N;
  return {
    id: text('id'),
    status: status as TransferStatus,
    debitAccountId: text('debitAccountId'),
    creditAccountId: text('creditAccountId'),
    amount: parseStoredMinorUnits(amount),
    currency: text('currency'),
    isHold: item.holdTimeoutSeconds?.N !== undefined,
    ...(captured === undefined ? {} : { capturedAmount: parseStoredMinorUnits(captured) }),
  };
}
