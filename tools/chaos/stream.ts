import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { AwsClients } from '../../shared/adapters/clients.js';
import { type StreamRecord, toKinesisEvent, toStreamRecord } from '../local/kinesis-event.js';
import { checkpointKey } from '../local/poller-store.js';
import type { Random } from './random.js';

/** Reading the stream behind the stack's back: what survived a kill, and redeliveries. */

const PAGES_PER_SHARD_MAX = 1_000;
const RECORDS_PER_PAGE_MAX = 10_000;
/** Records per replayed batch at most. */
export const REPLAY_BATCH_MAX = 40;
const REPLAY_ATTEMPTS_MAX = 4;
const REPLAY_ROLE = 'arn:aws:iam::000000000000:role/chaos-replay';

export interface ShardRecords {
  readonly shardId: string;
  readonly records: readonly StreamRecord[];
}

/** Every record now in the stream, shard by shard, each in sequence order. */
export async function readStream(clients: AwsClients, streamName: string): Promise<ShardRecords[]> {
  const shards = (await clients.kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const out: ShardRecords[] = [];
  for (const shard of shards) {
    const shardId = shard.ShardId ?? '';
    const start = await clients.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const records: StreamRecord[] = [];
    let iterator = start.ShardIterator;
    for (let page = 0; page < PAGES_PER_SHARD_MAX && iterator !== undefined; page++) {
      const got = await clients.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: RECORDS_PER_PAGE_MAX }),
      );
      records.push(...(got.Records ?? []).map(toStreamRecord));
      if ((got.Records ?? []).length === 0 && (got.MillisBehindLatest ?? 0) === 0) break;
      iterator = got.NextShardIterator;
    }
    out.push({ shardId, records });
  }
  return out;
}

/** `shardId/sequenceNumber` of every record. */
export function recordKeys(shards: readonly ShardRecords[]): Set<string> {
  const keys = new Set<string>();
  for (const shard of shards) for (const r of shard.records) keys.add(`${shard.shardId}/${r.sequenceNumber}`);
  return keys;
}

export interface ReplayResult {
  readonly records: number;
  /** Records the consumer still reported failed after the bounded retries. */
  readonly unresolved: number;
}

/**
 * A second consumer redelivering records the stack's consumer has already checkpointed: a random
 * window of one shard, in reverse order (a redelivery can come in any order once the records were
 * processed). Their effect must already be there: every one of them is a duplicate.
 */
export async function replayProcessed(
  clients: AwsClients,
  tableName: string,
  streamName: string,
  shards: readonly ShardRecords[],
  handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>,
  random: Random,
): Promise<ReplayResult> {
  const nonEmpty = shards.filter((s) => s.records.length > 0);
  if (nonEmpty.length === 0) return { records: 0, unresolved: 0 };
  const shard = random.pick(nonEmpty);
  const key = checkpointKey(streamName, shard.shardId);
  const checkpoint = (
    await clients.dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        ConsistentRead: true,
      }),
    )
  ).Item?.sequenceNumber?.S;
  if (checkpoint === undefined) return { records: 0, unresolved: 0 };
  const processed = shard.records.filter((r) => BigInt(r.sequenceNumber) <= BigInt(checkpoint));
  if (processed.length === 0) return { records: 0, unresolved: 0 };
  const size = random.int(1, Math.min(REPLAY_BATCH_MAX, processed.length));
  const from = random.int(0, processed.length - size);
  const summary = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  const source = {
    shardId: shard.shardId,
    region: await clients.kinesis.config.region(),
    streamArn: summary.StreamDescriptionSummary?.StreamARN ?? '',
    invokeIdentityArn: REPLAY_ROLE,
  };
  let batch = toKinesisEvent(processed.slice(from, from + size).reverse(), source).Records;
  for (let attempt = 0; attempt < REPLAY_ATTEMPTS_MAX && batch.length > 0; attempt++) {
    const failed = new Set(
      (await handler({ Records: batch })).batchItemFailures.map((f) => f.itemIdentifier),
    );
    batch = batch.filter((r) => failed.has(r.kinesis.sequenceNumber));
  }
  return { records: size, unresolved: batch.length };
}
