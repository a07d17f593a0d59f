import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type StreamSpecification,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ledgerTableDefinition, TTL_ATTRIBUTE } from '../../shared/adapters/ledger-table.js';
import { LocalStackError } from './errors.js';
import { abortableSleep } from './timing.js';

export const TABLE_ACTIVE_TIMEOUT_MS = 60_000;
export const STREAM_ACTIVE_TIMEOUT_MS = 60_000;
const STATUS_POLL_MS = 100;
/** The table's change stream: the local replicator (replicator.ts) applies both images. */
export const TABLE_STREAM: StreamSpecification = {
  StreamEnabled: true,
  StreamViewType: 'NEW_AND_OLD_IMAGES',
};

export interface EnsuredTable {
  readonly created: boolean;
  /** `unsupported`: the emulator refused UpdateTimeToLive; items then never expire. */
  readonly ttl: 'enabled' | 'unsupported';
}

export interface EnsuredStream {
  readonly created: boolean;
  readonly streamArn: string;
  /** Open shards; may differ from the requested count when the stream already existed. */
  readonly shardCount: number;
}

/**
 * Creates the ledger table from `ledgerTableDefinition` when missing, waits until it (and its
 * indexes) are ACTIVE, enables its stream (NEW_AND_OLD_IMAGES) on a table that has none, and
 * enables TTL on `expiresAt`. Idempotent; safe to race with itself. Throws LocalStackError on a
 * table whose stream has another view type (it cannot change while enabled).
 */
export async function ensureTable(dynamodb: DynamoDBClient, tableName: string): Promise<EnsuredTable> {
  let created = false;
  if ((await describeTable(dynamodb, tableName)) === undefined) {
    try {
      await dynamodb.send(
        new CreateTableCommand({ ...ledgerTableDefinition(tableName), StreamSpecification: TABLE_STREAM }),
      );
      created = true;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
    }
  }
  await waitForTableActive(dynamodb, tableName);
  if (await enableStream(dynamodb, tableName)) await waitForTableActive(dynamodb, tableName);
  return { created, ttl: await enableTtl(dynamodb, tableName) };
}

/** Enables the stream when the table has none. True when it did. */
async function enableStream(dynamodb: DynamoDBClient, tableName: string): Promise<boolean> {
  const current = (await describeTable(dynamodb, tableName))?.StreamSpecification;
  if (current?.StreamEnabled === true) {
    if (current.StreamViewType === TABLE_STREAM.StreamViewType) return false;
    throw new LocalStackError(
      `table ${tableName} streams ${current.StreamViewType}, not ${TABLE_STREAM.StreamViewType}: ` +
        'disable its stream (or delete the table) and provision again',
    );
  }
  try {
    await dynamodb.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: TABLE_STREAM }));
  } catch (error) {
    // A concurrent ensureTable enabled it first.
    if ((error as { name?: string }).name !== 'ValidationException') throw error;
    const after = (await describeTable(dynamodb, tableName))?.StreamSpecification;
    if (after?.StreamEnabled !== true) throw error;
  }
  return true;
}

async function describeTable(
  dynamodb: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function waitForTableActive(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const table = await describeTable(dynamodb, tableName);
    const indexes = table?.GlobalSecondaryIndexes ?? [];
    if (table?.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE')) return;
    await abortableSleep(STATUS_POLL_MS);
  }
  throw new LocalStackError(`table ${tableName} not ACTIVE within ${TABLE_ACTIVE_TIMEOUT_MS / 1000} s`);
}

async function enableTtl(dynamodb: DynamoDBClient, tableName: string): Promise<EnsuredTable['ttl']> {
  try {
    const current = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = current.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return 'enabled';
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
    return 'enabled';
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'UnknownOperationException' || name === 'ValidationException') return 'unsupported';
    throw error;
  }
}

/** Creates the stream when missing and waits until it is ACTIVE. Idempotent; never reshards. */
export async function ensureStream(
  kinesis: KinesisClient,
  streamName: string,
  shardCount: number,
): Promise<EnsuredStream> {
  let created = false;
  if ((await describeStream(kinesis, streamName)) === undefined) {
    try {
      await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
      created = true;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
    }
  }
  const deadline = Date.now() + STREAM_ACTIVE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const summary = await describeStream(kinesis, streamName);
    if (summary?.status === 'ACTIVE') return { created, streamArn: summary.arn, shardCount: summary.shards };
    await abortableSleep(STATUS_POLL_MS);
  }
  throw new LocalStackError(`stream ${streamName} not ACTIVE within ${STREAM_ACTIVE_TIMEOUT_MS / 1000} s`);
}

async function describeStream(
  kinesis: KinesisClient,
  streamName: string,
): Promise<{ status: string; arn: string; shards: number } | undefined> {
  try {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const summary = out.StreamDescriptionSummary;
    return {
      status: summary?.StreamStatus ?? 'UNKNOWN',
      arn: summary?.StreamARN ?? '',
      shards: summary?.OpenShardCount ?? 0,
    };
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
