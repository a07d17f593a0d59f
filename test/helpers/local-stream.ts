import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { TestClients } from './emulators.js';

const RECORDS_PER_CALL_MAX = 1_000;
const QUERY_PAGES_MAX = 100;

export interface PutResult {
  readonly data: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/**
 * Puts one record per entry, one after the other, so records of one shard arrive in entry order.
 * `data` is the UTF-8 payload; the partition key defaults to the payload.
 */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  entries: readonly { readonly data: string; readonly partitionKey?: string }[],
): Promise<PutResult[]> {
  if (entries.length > RECORDS_PER_CALL_MAX) throw new RangeError(`at most ${RECORDS_PER_CALL_MAX} records`);
  const results: PutResult[] = [];
  for (const entry of entries) {
    const out = await kinesis.send(
      new PutRecordCommand({
        StreamName: streamName,
        PartitionKey: entry.partitionKey ?? entry.data,
        Data: Buffer.from(entry.data),
      }),
    );
    if (out.ShardId === undefined || out.SequenceNumber === undefined)
      throw new Error('PutRecord: no result');
    results.push({ data: entry.data, shardId: out.ShardId, sequenceNumber: out.SequenceNumber });
  }
  return results;
}

/** The UTF-8 payloads of an event's records, in order. */
export function payloads(event: KinesisStreamEvent): string[] {
  return event.Records.map((record) => Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
}

/** Every item of one partition of the ledger table, as plain strings and numbers. */
export async function queryPartition(
  clients: TestClients,
  tableName: string,
  pk: string,
): Promise<Record<string, string | number>[]> {
  const items: Record<string, string | number>[] = [];
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  for (let page = 0; page < QUERY_PAGES_MAX; page++) {
    const out = await clients.dynamodb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    for (const item of out.Items ?? []) {
      items.push(
        Object.fromEntries(
          Object.entries(item).map(([key, value]) => [
            key,
            value.N !== undefined ? Number(value.N) : (value.S ?? ''),
          ]),
        ),
      );
    }
    start = out.LastEvaluatedKey;
    if (start === undefined) break;
  }
  return items;
}
