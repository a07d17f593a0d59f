import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { StreamRecord } from './kinesis-event.js';

/** The on-failure destination of the local event source mapping (a `DEAD#<source>` partition). */
export const ON_FAILURE_SOURCE = 'consumer-on-failure';
/** Dead-lettered records expire (TTL on `expiresAt`) after this long, like an SQS DLQ's retention. */
export const DEAD_LETTER_TTL_SECONDS = 14 * 24 * 60 * 60;
const REASON_LENGTH_MAX = 1_000;

export function checkpointKey(streamName: string, shardId: string): { pk: string; sk: string } {
  return { pk: `CKPT#${streamName}`, sk: shardId };
}

/**
 * Where each shard's poller has got to, in the ledger table (`CKPT#<stream>` / `<shardId>`), so a
 * restart neither re-reads the stream from the start nor skips what arrived while it was down.
 */
export class CheckpointStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly streamName: string,
  ) {}

  /** The last sequence number processed on the shard, or undefined when it was never read. */
  async load(shardId: string): Promise<string | undefined> {
    const { pk, sk } = checkpointKey(this.streamName, shardId);
    const out = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: pk }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    return out.Item?.sequenceNumber?.S;
  }

  async save(shardId: string, sequenceNumber: string): Promise<void> {
    const { pk, sk } = checkpointKey(this.streamName, shardId);
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: pk },
          sk: { S: sk },
          sequenceNumber: { S: sequenceNumber },
          updatedAt: { S: new Date().toISOString() },
        },
      }),
    );
  }
}

export interface DeadLetter {
  readonly record: StreamRecord;
  readonly shardId: string;
  readonly reason: string;
  readonly attempts: number;
}

/** Writes one `DEAD#consumer-on-failure` item per discarded record (the local on-failure destination). */
export class DeadLetterWriter {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly streamName: string,
  ) {}

  async write(letter: DeadLetter): Promise<void> {
    const now = new Date();
    const { record } = letter;
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: `DEAD#${ON_FAILURE_SOURCE}` },
          sk: { S: `${now.toISOString()}#${letter.shardId}#${record.sequenceNumber}` },
          reason: { S: letter.reason.slice(0, REASON_LENGTH_MAX) },
          streamName: { S: this.streamName },
          shardId: { S: letter.shardId },
          sequenceNumber: { S: record.sequenceNumber },
          partitionKey: { S: record.partitionKey },
          data: { S: Buffer.from(record.data).toString('base64') },
          approximateArrivalTimestamp: { N: String(record.arrivedAtMs / 1000) },
          attempts: { N: String(letter.attempts) },
          expiresAt: { N: String(Math.floor(now.getTime() / 1000) + DEAD_LETTER_TTL_SECONDS) },
        },
      }),
    );
  }
}
