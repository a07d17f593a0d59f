import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvalidCursorError, TransientLedgerError } from '../domain/errors.js';
import {
  type Account,
  type CreditLeg,
  epochAt,
  type StatementEntry,
  type Transfer,
  type TransferRequest,
  TransferStatus,
} from '../domain/ledger.js';
import type { LedgerState, WriteSet } from '../domain/planner.js';
import type {
  CommitResult,
  DeadLetter,
  DeadLetterSink,
  LedgerReader,
  LedgerStateStore,
  PendingTransfers,
  RecordAcceptedResult,
  StatementPage,
  StatementPageRequest,
  TransferRecorder,
} from '../ports/ledger-store.js';
import { isTransientAwsError } from './aws-errors.js';
import {
  accountFromItem,
  accountItem,
  accountKey,
  type Item,
  legFromItem,
  legItem,
  legKey,
  N,
  pageFromItem,
  pageItem,
  pageSortKey,
  type RegionControl,
  regionControlFromItem,
  regionKey,
  S,
  SCHEDULE_SHARDS,
  schedulePartition,
  transferFromItem,
  transferItem,
  transferKey,
  writtenStamp,
  writtenValue,
} from './dynamo-codec.js';
import { PENDING_INDEX } from './ledger-table.js';

/** DynamoDB's own limits. */
export const TRANSACTION_ITEMS_MAX = 100;
const BATCH_GET_KEYS_MAX = 100;
/** Rounds of BatchGetItem for unprocessed keys before giving up (throttling). */
const READ_ROUNDS_MAX = 5;
/** Journal pages read per statement request, at most. */
const STATEMENT_PAGES_READ_MAX = 20;
const DEAD_LETTER_TTL_SECONDS = 14 * 24 * 3600;
const DEAD_LETTER_DATA_CHARS_MAX = 16_384;
const RETRYABLE_CANCELLATIONS = new Set([
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
  'None',
]);

/** DynamoDB implementation of the ledger's ports over the single table. */
export class DynamoLedgerStore
  implements LedgerReader, TransferRecorder, LedgerStateStore, PendingTransfers, DeadLetterSink
{
  private readonly region: string;

  /**
   * `options.region` names the writer in each item's `written` stamp (the local replicator's
   * last-writer-wins clock; on AWS global tables keep their own).
   */
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
    options: { readonly region?: string } = {},
  ) {
    this.region = options.region ?? 'local';
  }

  private stamp(): Item {
    return writtenStamp(this.now(), this.region);
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const item = await this.get(accountKey(id));
    return item === undefined ? undefined : accountFromItem(item);
  }

  async getTransfer(id: string): Promise<Transfer | undefined> {
    const item = await this.get(transferKey(id));
    return item === undefined ? undefined : transferFromItem(item);
  }

  /**
   * Newest first: journal pages by descending version, each page's lines last-first. The cursor
   * names the last line returned (version and index); the next page starts just before it.
   */
  async listStatement(accountId: string, request: StatementPageRequest): Promise<StatementPage> {
    let position = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    // Pages a fenced region wrote past a failover point never counted: skip them (the audit names them).
    const account = request.account ?? (await this.getAccount(accountId));
    const isVoid = (p: { version: bigint; epoch?: bigint }): boolean =>
      account?.forks !== undefined && (p.epoch ?? 1n) !== epochAt(account, p.version);
    const entries: StatementEntry[] = [];
    let more = true;
    for (let round = 0; round < STATEMENT_PAGES_READ_MAX && entries.length < request.limit && more; round++) {
      const out = await this.queryPages(accountId, position?.version, request.limit);
      let cut = false;
      for (const page of out.pages) {
        if (isVoid(page)) {
          position = { version: page.version, index: 0 };
          continue;
        }
        const start = position?.version === page.version ? position.index : page.lines.length;
        for (let index = Math.min(start, page.lines.length) - 1; index >= 0; index--) {
          const line = page.lines[index];
          if (line === undefined) continue;
          if (entries.length === request.limit) {
            cut = true;
            break;
          }
          entries.push({
            ...line,
            accountId,
            version: page.version,
            index,
            currency: page.currency,
            postedAt: page.postedAt,
          });
        }
        if (cut) break;
        position = { version: page.version, index: 0 };
      }
      more = cut || out.hasMore;
    }
    const last = entries.at(-1);
    return {
      entries,
      nextCursor: more && last !== undefined ? encodeCursor(last.version, last.index) : null,
    };
  }

  /** Journal pages at or below `upto`, newest first. */
  private async queryPages(accountId: string, upto: bigint | undefined, limit: number) {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression:
          upto === undefined ? 'pk = :pk AND begins_with(sk, :e)' : 'pk = :pk AND sk BETWEEN :e AND :upto',
        ExpressionAttributeValues: {
          ':pk': S(`ACCT#${accountId}`),
          ':e': S('E#'),
          ...(upto === undefined ? {} : { ':upto': S(pageSortKey(upto)) }),
        },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: Math.min(limit + 1, 26),
      }),
    );
    return { pages: (out.Items ?? []).map(pageFromItem), hasMore: out.LastEvaluatedKey !== undefined };
  }

  async recordAccepted(
    request: TransferRequest,
    fingerprint: string,
    acceptedAt: string,
  ): Promise<RecordAcceptedResult> {
    const transfer: Transfer = {
      ...request,
      fingerprint,
      acceptedAt,
      status: TransferStatus.ACCEPTED,
      revision: 0n,
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...transferItem(transfer), ...this.stamp() },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true, transfer };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item !== undefined) {
        return { created: false, existing: transferFromItem(error.Item) };
      }
      throw error;
    }
  }

  async readState(ids: {
    accounts: Iterable<string>;
    transfers: Iterable<string>;
    legs?: Iterable<string>;
  }): Promise<LedgerState> {
    const keys = [...new Set(ids.transfers)]
      .map(transferKey)
      .concat([...new Set(ids.accounts)].map(accountKey))
      .concat([...new Set(ids.legs ?? [])].map(legKey));
    const accounts = new Map<string, Account>();
    const transfers = new Map<string, Transfer>();
    const legs = new Map<string, CreditLeg>();
    for (const item of await this.batchGet(keys)) {
      if (item.kind?.S === 'account') {
        const a = accountFromItem(item);
        accounts.set(a.id, a);
      } else if (item.kind?.S === 'transfer') {
        const t = transferFromItem(item);
        transfers.set(t.id, t);
      } else if (item.kind?.S === 'credit_leg') {
        const l = legFromItem(item);
        legs.set(l.transferId, l);
      }
    }
    return { accounts, transfers, legs };
  }

  /** A region's standing as this replica has it (absent: never failed over, so ACTIVE). */
  async getRegionControl(region: string): Promise<RegionControl | undefined> {
    const item = await this.get(regionKey(region));
    return item === undefined ? undefined : regionControlFromItem(item);
  }

  /** The credit leg of a cross-region transfer, as this region's replica has it. */
  async getCreditLeg(transferId: string): Promise<CreditLeg | undefined> {
    const item = await this.get(legKey(transferId));
    return item === undefined ? undefined : legFromItem(item);
  }

  async commit(writes: WriteSet): Promise<CommitResult> {
    const items = this.transactItems(writes);
    if (items.length === 0) return 'committed';
    if (items.length > TRANSACTION_ITEMS_MAX)
      throw new RangeError(`a plan of ${items.length} writes exceeds ${TRANSACTION_ITEMS_MAX}`);
    try {
      await this.client.send(
        new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: requestToken(items) }),
      );
      return 'committed';
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        if (codes.every((c) => RETRYABLE_CANCELLATIONS.has(c))) return 'conflict';
        throw new TransientLedgerError(`transaction cancelled: ${codes.join(',')}`, { cause: error });
      }
      if (isTransientAwsError(error)) return 'conflict';
      throw error;
    }
  }

  async put(letter: DeadLetter): Promise<void> {
    const at = this.now();
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: S(`DEAD#${letter.source}`),
          sk: S(letter.recordId),
          kind: S('dead_letter'),
          at: S(at.toISOString()),
          reason: S(letter.reason.slice(0, 1024)),
          recordId: S(letter.recordId),
          partitionKey: S(letter.partitionKey),
          data: S(letter.data.slice(0, DEAD_LETTER_DATA_CHARS_MAX)),
          expiresAt: N(Math.floor(at.getTime() / 1000) + DEAD_LETTER_TTL_SECONDS),
          ...this.stamp(),
        },
      }),
    );
  }

  /** ACCEPTED transfers not applied, and DEBITED ones whose credit is late, older than `olderThan`. */
  listStale(olderThan: string, limit: number): Promise<readonly Transfer[]> {
    return this.listScheduled('PENDING', olderThan, limit, [TransferStatus.ACCEPTED, TransferStatus.DEBITED]);
  }

  listExpiredHolds(now: string, limit: number): Promise<readonly Transfer[]> {
    return this.listScheduled('HOLD', now, limit, [TransferStatus.HELD]);
  }

  async markReenqueued(id: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: transferKey(id),
          ConditionExpression: '#status IN (:accepted, :debited)',
          UpdateExpression: 'SET gsi1sk = :sk, written = :w ADD reenqueueCount :one',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':accepted': S(TransferStatus.ACCEPTED),
            ':debited': S(TransferStatus.DEBITED),
            ':sk': S(`${at}#${id}`),
            ':w': writtenValue(this.now(), this.region),
            ':one': N(1),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async listScheduled(
    kind: 'PENDING' | 'HOLD',
    before: string,
    limit: number,
    statuses: readonly TransferStatus[],
  ): Promise<readonly Transfer[]> {
    const found: Transfer[] = [];
    for (let shard = 0; shard < SCHEDULE_SHARDS && found.length < limit; shard++) {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PENDING_INDEX.name,
          KeyConditionExpression: '#p = :p AND #s < :before',
          ExpressionAttributeNames: { '#p': PENDING_INDEX.partition, '#s': PENDING_INDEX.sort },
          ExpressionAttributeValues: { ':p': S(schedulePartition(kind, shard)), ':before': S(before) },
          Limit: limit - found.length,
        }),
      );
      const ids = (out.Items ?? []).flatMap((key) =>
        key.pk?.S === undefined ? [] : [key.pk.S.slice('XFER#'.length)],
      );
      const state = await this.readState({ accounts: [], transfers: ids });
      for (const t of state.transfers.values()) if (statuses.includes(t.status)) found.push(t);
    }
    return found;
  }

  private transactItems(w: WriteSet): TransactWriteItem[] {
    const table = this.tableName;
    const stamp = this.stamp();
    return [
      ...w.transfers.map(({ before, after }) => ({
        Put: {
          TableName: table,
          Item: { ...transferItem(after), ...stamp },
          ConditionExpression: 'revision = :r OR (attribute_not_exists(revision) AND :r = :zero)',
          ExpressionAttributeValues: { ':r': N(before.revision), ':zero': N(0) },
        },
      })),
      // Each account: written only if still at the version the plan read, and only here at home.
      ...w.accounts.map(({ before, after }) => ({
        Put: {
          TableName: table,
          Item: { ...accountItem(after), ...stamp },
          ConditionExpression: 'version = :v AND homeRegion = :home',
          ExpressionAttributeValues: { ':v': N(before.version), ':home': S(before.homeRegion) },
        },
      })),
      ...w.openedAccounts.map((a) => ({
        Put: {
          TableName: table,
          Item: { ...accountItem(a), ...stamp },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
      // A page is written once; only a void page left by a fenced region (older epoch) may be replaced.
      ...w.pages.map((p) => ({
        Put: {
          TableName: table,
          Item: { ...pageItem(p), ...stamp },
          ConditionExpression: 'attribute_not_exists(pk) OR epoch < :e',
          ExpressionAttributeValues: { ':e': N(p.epoch ?? 1n) },
        },
      })),
      ...(w.legs ?? []).map(({ before, after }) => ({
        Put: {
          TableName: table,
          Item: { ...legItem(after), ...stamp },
          ...(before?.appliedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'appliedVersion = :lv',
                ExpressionAttributeValues: { ':lv': N(before.appliedVersion) },
              }),
        },
      })),
    ];
  }

  private async get(key: Item): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return out.Item;
  }

  /** Strongly consistent BatchGetItem in chunks of 100, re-asking for unprocessed keys (bounded). */
  private async batchGet(keys: Item[]): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS_MAX) {
      let pending: Item[] = keys.slice(i, i + BATCH_GET_KEYS_MAX);
      for (let round = 0; pending.length > 0; round++) {
        if (round >= READ_ROUNDS_MAX) throw new TransientLedgerError('reads throttled (unprocessed keys)');
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
        const out = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        items.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return items;
  }
}

/**
 * The SDK's own retry of a timed-out transaction reuses the token and cannot apply it twice. The
 * token is a hash of the whole request: DynamoDB answers IdempotentParameterMismatch when a token
 * comes back within 10 minutes with other parameters, which a token derived from less would cause.
 */
function requestToken(items: TransactWriteItem[]): string {
  return createHash('sha256').update(JSON.stringify(items)).digest('base64url').slice(0, 36);
}

function encodeCursor(version: bigint, index: number): string {
  return Buffer.from(JSON.stringify({ v: version.toString(), i: index })).toString('base64url');
}

function decodeCursor(cursor: string): { version: bigint; index: number } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      v?: unknown;
      i?: unknown;
    };
    if (
      typeof parsed.v === 'string' &&
      /^[0-9]{1,20}$/.test(parsed.v) &&
      Number.isSafeInteger(parsed.i) &&
      (parsed.i as number) >= 0
    ) {
      return { version: BigInt(parsed.v), index: parsed.i as number };
    }
  } catch (error) {
    throw new InvalidCursorError(undefined, { cause: error });
  }
  throw new InvalidCursorError();
}
