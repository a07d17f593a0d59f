import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  type CancellationReason,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvalidCursorError, TransientLedgerError } from '../domain/errors.js';
import {
  type Account,
  type AccountSpec,
  entriesOf,
  type Transfer,
  type TransferDecision,
  type TransferRequest,
  TransferStatus,
} from '../domain/ledger.js';
import type {
  ApplyResult,
  DeadLetter,
  DeadLetterSink,
  LedgerReader,
  LedgerWriter,
  PendingTransfers,
  RecordAcceptedResult,
  StatementPage,
  StatementPageRequest,
  TransferRecorder,
} from '../ports/ledger-store.js';
import {
  accountFromItem,
  accountKey,
  entryFromItem,
  entryItem,
  entrySortKey,
  type Item,
  metadataAttr,
  N,
  S,
  transferFromItem,
  transferKey,
} from './dynamo-codec.js';
import { PENDING_INDEX } from './ledger-table.js';

/** Attempts to apply one transfer when a concurrent writer moved an account's version. */
export const APPLY_ATTEMPTS_MAX = 8;
/** Backoff between attempts: base * 2^n, capped, with full jitter. */
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 400;
/** The pending index is spread over this many partitions so that no GSI partition runs hot. */
export const PENDING_SHARDS = 16;
const DEAD_LETTER_TTL_SECONDS = 14 * 24 * 3600;
const DEAD_LETTER_DATA_CHARS_MAX = 16_384;

const TRANSIENT_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** DynamoDB implementation of the ledger's ports over the single table. */
export class DynamoLedgerStore
  implements LedgerReader, TransferRecorder, LedgerWriter, PendingTransfers, DeadLetterSink
{
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async getAccount(id: string): Promise<Account | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: accountKey(id), ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : accountFromItem(out.Item);
  }

  async getTransfer(id: string): Promise<Transfer | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: transferKey(id), ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : transferFromItem(out.Item);
  }

  async listStatement(accountId: string, page: StatementPageRequest): Promise<StatementPage> {
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression:
          before === undefined
            ? 'pk = :pk AND begins_with(sk, :e)'
            : 'pk = :pk AND sk BETWEEN :e AND :before',
        ExpressionAttributeValues: {
          ':pk': S(`ACCT#${accountId}`),
          ':e': S('E#'),
          ...(before === undefined ? {} : { ':before': S(entrySortKey(before - 1n)) }),
        },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: page.limit,
      }),
    );
    const entries = (out.Items ?? []).map(entryFromItem);
    const last = entries.at(-1);
    const more = out.LastEvaluatedKey !== undefined && last !== undefined && last.version > 1n;
    return { entries, nextCursor: more ? encodeCursor(last.version) : null };
  }

  async recordAccepted(
    request: TransferRequest,
    fingerprint: string,
    acceptedAt: string,
  ): Promise<RecordAcceptedResult> {
    const transfer: Transfer = { ...request, fingerprint, acceptedAt, status: TransferStatus.ACCEPTED };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: acceptedTransferItem(transfer),
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

  async applyTransfer(
    request: TransferRequest,
    fingerprint: string,
    decide: (debit: Account | undefined, credit: Account | undefined) => TransferDecision,
  ): Promise<ApplyResult> {
    for (let attempt = 0; attempt < APPLY_ATTEMPTS_MAX; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt));
      const [debit, credit] = await this.readPair(request.debitAccountId, request.creditAccountId);
      const decision = decide(debit, credit);
      if (decision.outcome === 'not_home') {
        return {
          status: 'unappliable',
          reason: `account ${decision.accountId} is homed in ${decision.homeRegion}`,
        };
      }
      const result =
        decision.outcome === 'reject'
          ? await this.writeRejection(request, fingerprint, decision.reason)
          : await this.writePosting(request, fingerprint, decision, debit, credit);
      if (result !== 'retry') return result;
    }
    throw new TransientLedgerError(`transfer ${request.id}: gave up after ${APPLY_ATTEMPTS_MAX} attempts`);
  }

  async openAccount(
    spec: AccountSpec,
    homeRegion: string,
    fingerprint: string,
    at: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...accountKey(spec.id),
            kind: S('account'),
            id: S(spec.id),
            currency: S(spec.currency),
            balance: N(0n),
            overdraftLimit: N(spec.overdraftLimit),
            version: N(0n),
            homeRegion: S(homeRegion),
            fingerprint: S(fingerprint),
            createdAt: S(at),
            updatedAt: S(at),
            ...metadataAttr(spec.metadata),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
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
          sk: S(`${at.toISOString()}#${letter.recordId}`),
          kind: S('dead_letter'),
          reason: S(letter.reason.slice(0, 1024)),
          recordId: S(letter.recordId),
          partitionKey: S(letter.partitionKey),
          data: S(letter.data.slice(0, DEAD_LETTER_DATA_CHARS_MAX)),
          expiresAt: N(BigInt(Math.floor(at.getTime() / 1000) + DEAD_LETTER_TTL_SECONDS)),
        },
      }),
    );
  }

  async listStale(olderThan: string, limit: number): Promise<readonly Transfer[]> {
    const found: Transfer[] = [];
    for (let shard = 0; shard < PENDING_SHARDS && found.length < limit; shard++) {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PENDING_INDEX.name,
          KeyConditionExpression: '#p = :p AND #s < :before',
          ExpressionAttributeNames: { '#p': PENDING_INDEX.partition, '#s': PENDING_INDEX.sort },
          ExpressionAttributeValues: { ':p': S(pendingPartition(shard)), ':before': S(olderThan) },
          Limit: limit - found.length,
        }),
      );
      for (const key of out.Items ?? []) {
        const id = key.pk?.S?.slice('XFER#'.length);
        const transfer = id === undefined ? undefined : await this.getTransfer(id);
        if (transfer?.status === TransferStatus.ACCEPTED) found.push(transfer);
      }
    }
    return found;
  }

  async markReenqueued(id: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: transferKey(id),
          ConditionExpression: '#status = :accepted',
          UpdateExpression: 'SET gsi1sk = :sk ADD reenqueueCount :one',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':accepted': S(TransferStatus.ACCEPTED),
            ':sk': S(`${at}#${id}`),
            ':one': N(1n),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Both accounts in one strongly consistent read. */
  private async readPair(
    debitId: string,
    creditId: string,
  ): Promise<[Account | undefined, Account | undefined]> {
    const keys = debitId === creditId ? [accountKey(debitId)] : [accountKey(debitId), accountKey(creditId)];
    const out = await this.client.send(
      new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
    );
    if (out.UnprocessedKeys !== undefined && Object.keys(out.UnprocessedKeys).length > 0) {
      throw new TransientLedgerError('account read throttled (unprocessed keys)');
    }
    const accounts = (out.Responses?.[this.tableName] ?? []).map(accountFromItem);
    return [accounts.find((a) => a.id === debitId), accounts.find((a) => a.id === creditId)];
  }

  private async writeRejection(
    request: TransferRequest,
    fingerprint: string,
    reason: string,
  ): Promise<ApplyResult | 'retry'> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: transferKey(request.id),
          ...finalizeCondition(fingerprint),
          UpdateExpression:
            'SET #status = :rejected, reason = :reason, rejectedAt = :at REMOVE gsi1pk, gsi1sk',
          ExpressionAttributeValues: {
            ...finalizeCondition(fingerprint).ExpressionAttributeValues,
            ':rejected': S(TransferStatus.REJECTED),
            ':reason': S(reason),
            ':at': S(this.now().toISOString()),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { status: 'rejected', reason };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return classifyFinal(error.Item, fingerprint);
      if (isTransient(error)) return 'retry';
      throw error;
    }
  }

  private async writePosting(
    request: TransferRequest,
    fingerprint: string,
    decision: Extract<TransferDecision, { outcome: 'post' }>,
    debit: Account | undefined,
    credit: Account | undefined,
  ): Promise<ApplyResult | 'retry'> {
    if (debit === undefined || credit === undefined) throw new Error('post decided without both accounts');
    const postedAt = this.now().toISOString();
    const [debitEntry, creditEntry] = entriesOf(request, debit, credit, decision, postedAt);
    const condition = finalizeCondition(fingerprint);
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          ClientRequestToken: requestToken(request.id, debit.version, credit.version, postedAt),
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: transferKey(request.id),
                ...condition,
                UpdateExpression:
                  'SET #status = :posted, postedAt = :at, debitBalanceAfter = :db, creditBalanceAfter = :cb REMOVE gsi1pk, gsi1sk',
                ExpressionAttributeValues: {
                  ...condition.ExpressionAttributeValues,
                  ':posted': S(TransferStatus.POSTED),
                  ':at': S(postedAt),
                  ':db': N(decision.debitBalanceAfter),
                  ':cb': N(decision.creditBalanceAfter),
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Update: this.accountUpdate(debit, -request.amount, postedAt) },
            { Update: this.accountUpdate(credit, request.amount, postedAt) },
            {
              Put: {
                TableName: this.tableName,
                Item: entryItem(debitEntry),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: entryItem(creditEntry),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return { status: 'posted' };
    } catch (error) {
      if (error instanceof TransactionCanceledException) return classifyCancellation(error, fingerprint);
      if (isTransient(error)) return 'retry';
      throw error;
    }
  }

  /**
   * Moves an account's balance by `delta`, conditioned on the version the decision was made at,
   * its currency and its home region; a debit is also conditioned on the overdraft floor, so the
   * limit holds even if the version check were ever dropped.
   */
  private accountUpdate(account: Account, delta: bigint, at: string) {
    const isDebit = delta < 0n;
    return {
      TableName: this.tableName,
      Key: accountKey(account.id),
      ConditionExpression: `version = :v AND currency = :cur AND homeRegion = :home${isDebit ? ' AND balance >= :floor' : ''}`,
      UpdateExpression: 'SET balance = balance + :delta, version = :next, updatedAt = :at',
      ExpressionAttributeValues: {
        ':v': N(account.version),
        ':cur': S(account.currency),
        ':home': S(account.homeRegion),
        ':delta': N(delta),
        ':next': N(account.version + 1n),
        ':at': S(at),
        // balance - amount >= -overdraftLimit  <=>  balance >= amount - overdraftLimit
        ...(isDebit ? { ':floor': N(-delta - account.overdraftLimit) } : {}),
      },
    };
  }
}

function acceptedTransferItem(t: Transfer): Item {
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
    gsi1pk: S(pendingPartition(pendingShardOf(t.id))),
    gsi1sk: S(`${t.acceptedAt}#${t.id}`),
    ...(t.reference === undefined ? {} : { reference: S(t.reference) }),
    ...metadataAttr(t.metadata),
  };
}

function pendingPartition(shard: number): string {
  return `PENDING#${shard.toString().padStart(2, '0')}`;
}

function pendingShardOf(id: string): number {
  return createHash('sha256').update(id).digest().readUInt8(0) % PENDING_SHARDS;
}

/** Only an ACCEPTED transfer with the same request can be finalized: a redelivery finds it final. */
function finalizeCondition(fingerprint: string) {
  return {
    ConditionExpression: '#status = :accepted AND fingerprint = :fp',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':accepted': S(TransferStatus.ACCEPTED), ':fp': S(fingerprint) },
  };
}

/** Why the transfer could not be finalized, from its current item. */
function classifyFinal(item: Item | undefined, fingerprint: string): ApplyResult {
  if (item === undefined) return { status: 'unappliable', reason: 'transfer was never recorded as accepted' };
  const current = transferFromItem(item);
  if (current.fingerprint !== fingerprint) {
    return { status: 'unappliable', reason: 'record does not match the accepted transfer (fingerprint)' };
  }
  return { status: 'duplicate' };
}

/**
 * TransactionCanceled carries one reason per action, in order: [transfer, debit, credit, entries].
 * A failed transfer condition means already final; a failed account condition means a concurrent
 * writer moved the version (re-read and decide again); conflicts and throttling are transient.
 */
function classifyCancellation(
  error: TransactionCanceledException,
  fingerprint: string,
): ApplyResult | 'retry' {
  const reasons: CancellationReason[] = error.CancellationReasons ?? [];
  const first = reasons[0];
  if (first?.Code === 'ConditionalCheckFailed') return classifyFinal(first.Item, fingerprint);
  const codes = reasons.map((r) => r.Code ?? 'None');
  if (codes.every((c) => c === 'None' || c === 'ConditionalCheckFailed' || TRANSIENT_CODES.has(c)))
    return 'retry';
  throw new TransientLedgerError(`transaction cancelled: ${codes.join(',')}`, { cause: error });
}

function isTransient(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name ?? '';
  return (
    TRANSIENT_CODES.has(name) ||
    name === 'ThrottlingException' ||
    name === 'TransactionConflictException' ||
    name === 'ProvisionedThroughputExceededException' ||
    name === 'RequestLimitExceeded' ||
    name === 'InternalServerError'
  );
}

/**
 * Same attempt, same token: the SDK's own retry of a timed-out transaction cannot apply it twice.
 * The token covers every parameter that differs between attempts (versions, timestamp): DynamoDB
 * answers IdempotentParameterMismatch when a token comes back within 10 minutes with other
 * parameters, which would turn a redelivered record into a failure instead of a duplicate.
 */
function requestToken(
  transferId: string,
  debitVersion: bigint,
  creditVersion: bigint,
  postedAt: string,
): string {
  return createHash('sha256')
    .update(`${transferId}|${debitVersion}|${creditVersion}|${postedAt}`)
    .digest('base64url')
    .slice(0, 36);
}

function encodeCursor(version: bigint): string {
  return Buffer.from(JSON.stringify({ before: version.toString() })).toString('base64url');
}

function decodeCursor(cursor: string): bigint {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const before = (parsed as { before?: unknown }).before;
    if (typeof before === 'string' && /^[0-9]{1,20}$/.test(before) && BigInt(before) > 0n)
      return BigInt(before);
  } catch (error) {
    throw new InvalidCursorError(undefined, { cause: error });
  }
  throw new InvalidCursorError();
}

function backoffMs(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
