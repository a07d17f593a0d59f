import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { toKinesisEvent, toStreamRecord } from '../../tools/local/kinesis-event.js';

/** Bounds for reading a test stream to its end. */
const PAGES_PER_SHARD_MAX = 1_000;
const RECORDS_PER_PAGE_MAX = 10_000;
const TEST_ACCOUNT_ROLE = 'arn:aws:iam::000000000000:role/test-consumer';

/**
 * Every record now in the stream, as Lambda would deliver them (KinesisStreamRecord), shard by
 * shard, each shard in sequence order.
 */
export async function readAllRecords(
  kinesis: KinesisClient,
  streamName: string,
  region = 'us-east-1',
): Promise<KinesisStreamRecord[]> {
  const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  const streamArn = summary.StreamDescriptionSummary?.StreamARN ?? '';
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const all: KinesisStreamRecord[] = [];
  for (const shard of shards) {
    const shardId = shard.ShardId ?? '';
    const source = { shardId, region, streamArn, invokeIdentityArn: TEST_ACCOUNT_ROLE };
    for (const page of await readShard(kinesis, streamName, shardId)) {
      all.push(...toKinesisEvent(page.map(toStreamRecord), source).Records);
    }
  }
  return all;
}

async function readShard(kinesis: KinesisClient, streamName: string, shardId: string) {
  const pages = [];
  const start = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  let iterator = start.ShardIterator;
  for (let page = 0; page < PAGES_PER_SHARD_MAX && iterator !== undefined; page++) {
    const out = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: RECORDS_PER_PAGE_MAX }),
    );
    const records = out.Records ?? [];
    if (records.length === 0 && (out.MillisBehindLatest ?? 0) === 0) break;
    pages.push(records);
    iterator = out.NextShardIterator;
  }
  return pages;
}

/** The event Lambda would deliver with these records. */
export function eventOf(records: readonly KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: [...records] };
}

/** A hand-made record (e.g. a poison payload that never went through the stream). */
export function rawRecord(
  data: Uint8Array,
  partitionKey: string,
  sequenceNumber: string,
): KinesisStreamRecord {
  const source = {
    shardId: 'shardId-000000000000',
    region: 'us-east-1',
    streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/test',
    invokeIdentityArn: TEST_ACCOUNT_ROLE,
  };
  const [record] = toKinesisEvent(
    [{ sequenceNumber, partitionKey, data, arrivedAtMs: Date.now() }],
    source,
  ).Records;
  if (record === undefined) throw new Error('unreachable: one record in, one out');
  return record;
}
