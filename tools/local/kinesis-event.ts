import type { _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/** What Lambda's event source mapping puts in every record besides the payload. */
export interface EventSource {
  readonly shardId: string;
  readonly region: string;
  readonly streamArn: string;
  readonly invokeIdentityArn: string;
}

/** A Kinesis record as the SDK returns it, with the fields Lambda always has. */
export interface StreamRecord {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly arrivedAtMs: number;
}

export function toStreamRecord(record: _Record): StreamRecord {
  if (record.SequenceNumber === undefined || record.PartitionKey === undefined || record.Data === undefined) {
    throw new TypeError('GetRecords returned a record without SequenceNumber, PartitionKey or Data');
  }
  return {
    sequenceNumber: record.SequenceNumber,
    partitionKey: record.PartitionKey,
    data: record.Data,
    arrivedAtMs: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
  };
}

/** The event Lambda would deliver for these records (same field names, formats and order). */
export function toKinesisEvent(records: readonly StreamRecord[], source: EventSource): KinesisStreamEvent {
  return { Records: records.map((record) => toLambdaRecord(record, source)) };
}

function toLambdaRecord(record: StreamRecord, source: EventSource): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: Buffer.from(record.data).toString('base64'),
      approximateArrivalTimestamp: record.arrivedAtMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${record.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
}

/** How one invocation ended: `failedFrom` is the index of the lowest failed record. */
export type InvocationOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly failedFrom: number;
      readonly failed: readonly number[];
      readonly reason: string;
    };

/**
 * Reads a handler's result the way Lambda does with ReportBatchItemFailures: nothing or an empty
 * list is success; listed identifiers fail from the lowest one on; an identifier that is empty or
 * not in the batch, or a malformed response, fails the whole batch.
 */
export function interpretResponse(records: readonly StreamRecord[], response: unknown): InvocationOutcome {
  if (response === undefined || response === null) return { ok: true };
  const failures = (response as Partial<KinesisStreamBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return { ok: true };
  if (!Array.isArray(failures)) return wholeBatch(records, 'malformed batchItemFailures');
  if (failures.length === 0) return { ok: true };
  const indexBySequence = new Map(records.map((record, index) => [record.sequenceNumber, index]));
  const failed: number[] = [];
  for (const failure of failures) {
    const id: unknown = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index = typeof id === 'string' ? indexBySequence.get(id) : undefined;
    if (index === undefined) return wholeBatch(records, `unknown itemIdentifier ${JSON.stringify(id)}`);
    failed.push(index);
  }
  failed.sort((a, b) => a - b);
  return { ok: false, failedFrom: failed[0] ?? 0, failed, reason: 'reported in batchItemFailures' };
}

/** A thrown handler (or an unreadable response) fails every record. */
export function wholeBatch(records: readonly StreamRecord[], reason: string): InvocationOutcome {
  return { ok: false, failedFrom: 0, failed: records.map((_, index) => index), reason };
}
