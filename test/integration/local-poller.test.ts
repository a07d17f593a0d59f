import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KinesisPoller, type PollerOptions } from '../../tools/local/poller.js';
import { checkpointKey, DEAD_LETTER_TTL_SECONDS } from '../../tools/local/poller-store.js';
import { createIsolatedLedger, type IsolatedLedger } from '../helpers/emulators.js';
import { payloads, putRecords, queryPartition } from '../helpers/local-stream.js';

/**
 * The local event source mapping against the real kinesis-mock and DynamoDB Local, with small
 * handlers that fail on purpose: the semantics the ledger consumer relies on in AWS.
 */
let ledger: IsolatedLedger;
let pollers: KinesisPoller[] = [];

beforeEach(async () => {
  ledger = await createIsolatedLedger('poller');
});

afterEach(async () => {
  await Promise.all(pollers.map((poller) => poller.stop()));
  pollers = [];
  await ledger.cleanup();
});

interface Invocation {
  readonly shardId: string;
  readonly data: string[];
  readonly sequenceNumbers: string[];
}

/** A handler that records every invocation and answers with `respond`. */
function recordingHandler(respond: (event: KinesisStreamEvent, call: number) => KinesisStreamBatchResponse) {
  const invocations: Invocation[] = [];
  const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    invocations.push({
      shardId: event.Records[0]?.eventID.split(':')[0] ?? '',
      data: payloads(event),
      sequenceNumbers: event.Records.map((record) => record.kinesis.sequenceNumber),
    });
    return respond(event, invocations.length);
  };
  return { invocations, handler };
}

async function startPoller(
  handler: PollerOptions['handler'],
  options: Partial<PollerOptions> = {},
): Promise<KinesisPoller> {
  const poller = new KinesisPoller({
    kinesis: ledger.clients.kinesis,
    dynamodb: ledger.clients.dynamodb,
    streamName: ledger.config.streamName,
    tableName: ledger.config.tableName,
    region: ledger.config.awsRegion,
    handler,
    pollIntervalMs: 20,
    retryBackoffMs: 1,
    ...options,
  });
  pollers.push(poller);
  await poller.start();
  return poller;
}

const failed = (
  event: KinesisStreamEvent,
  wanted: (data: string) => boolean,
): KinesisStreamBatchResponse => ({
  batchItemFailures: event.Records.filter((_, i) => wanted(payloads(event)[i] ?? '')).map((record) => ({
    itemIdentifier: record.kinesis.sequenceNumber,
  })),
});

const records = (count: number, prefix = 'r') =>
  Array.from({ length: count }, (_, i) => ({ data: `${prefix}${i}` }));

describe('local Kinesis poller', () => {
  it('delivers Lambda-shaped events, each of 2 shards in order, every record exactly once', async () => {
    await ledger.cleanup();
    ledger = await createIsolatedLedger('poller-2-shards', { shards: 2 });
    const put = await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(40));
    const { invocations, handler } = recordingHandler(() => ({ batchItemFailures: [] }));
    const poller = await startPoller(handler, { batchSize: 7 });
    await poller.drained();

    const shardIds = new Set(put.map((p) => p.shardId));
    expect(shardIds.size).toBe(2);
    for (const shardId of shardIds) {
      const delivered = invocations.filter((i) => i.shardId === shardId).flatMap((i) => i.data);
      expect(delivered).toEqual(put.filter((p) => p.shardId === shardId).map((p) => p.data));
    }
    expect(Math.max(...invocations.map((i) => i.data.length))).toBe(7);
    expect(poller.counters).toMatchObject({ records: 40, processed: 40, failures: 0, deadLettered: 0 });
    for (const shardId of shardIds) {
      const last = put.filter((p) => p.shardId === shardId).at(-1)?.sequenceNumber;
      expect(poller.checkpoints.get(shardId)).toBe(last);
    }
  });

  it('builds records the way Lambda does', async () => {
    const [put] = await putRecords(ledger.clients.kinesis, ledger.config.streamName, [
      { data: 'héllo', partitionKey: 'pk-1' },
    ]);
    const events: KinesisStreamEvent[] = [];
    const poller = await startPoller(async (event) => {
      events.push(event);
    });
    await poller.drained();
    const record = events[0]?.Records[0];
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventName: 'aws:kinesis:record',
      eventID: `${put?.shardId}:${put?.sequenceNumber}`,
      awsRegion: ledger.config.awsRegion,
      eventSourceARN: expect.stringMatching(
        new RegExp(`^arn:aws:kinesis:.*:stream/${ledger.config.streamName}$`),
      ),
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'pk-1',
        sequenceNumber: put?.sequenceNumber,
        data: Buffer.from('héllo').toString('base64'),
      },
    });
    const arrived = record?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(Math.abs(arrived - Date.now() / 1000)).toBeLessThan(60);
  });

  it('retries from the lowest failed sequence number of a partial batch response', async () => {
    await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(10));
    const { invocations, handler } = recordingHandler((event, call) =>
      call === 1 ? failed(event, (d) => d === 'r6' || d === 'r3') : { batchItemFailures: [] },
    );
    const poller = await startPoller(handler, { batchSize: 10 });
    await poller.drained();
    expect(invocations.map((i) => i.data)).toEqual([
      records(10).map((r) => r.data),
      records(10)
        .slice(3)
        .map((r) => r.data),
    ]);
    expect(poller.counters).toMatchObject({ batches: 2, failures: 1, processed: 10, deadLettered: 0 });
  });

  it('retries the whole batch when the handler throws; an empty or absent response is success', async () => {
    await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(4));
    let calls = 0;
    const seen: string[][] = [];
    const poller = await startPoller(async (event) => {
      seen.push(payloads(event));
      calls += 1;
      if (calls === 1) throw new Error('database unavailable');
      if (calls === 2) return { batchItemFailures: [] };
      return undefined;
    });
    await poller.drained();
    expect(seen).toEqual([
      ['r0', 'r1', 'r2', 'r3'],
      ['r0', 'r1', 'r2', 'r3'],
    ]);
    expect(poller.counters).toMatchObject({ batches: 2, failures: 1, processed: 4 });
  });

  it('bisects a failing batch until the poison record is alone, then dead-letters it', async () => {
    await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(8));
    const { invocations, handler } = recordingHandler((event) => {
      if (payloads(event).includes('r5')) throw new Error('poison');
      return { batchItemFailures: [] };
    });
    // A thrown error fails the whole batch: 8 -> halves of 4 -> 2 -> the poison alone, retried twice.
    // Attempts count per lowest failed record: r5's are its three single-record invocations.
    const poller = await startPoller(async (event) => handler(event), {
      batchSize: 8,
      bisectOnError: true,
      maxRetryAttempts: 2,
    });
    await poller.drained();
    expect(invocations.map((i) => i.data.join(','))).toEqual([
      'r0,r1,r2,r3,r4,r5,r6,r7',
      'r0,r1,r2,r3',
      'r4,r5,r6,r7',
      'r4,r5',
      'r4',
      'r5',
      'r5',
      'r5',
      'r6',
      'r7',
    ]);
    const dead = await queryPartition(ledger.clients, ledger.config.tableName, 'DEAD#consumer-on-failure');
    expect(dead.map((item) => Buffer.from(String(item.data), 'base64').toString())).toEqual(['r5']);
    expect(poller.counters.deadLettered).toBe(1);
  });

  it('sends records that exhaust their retries to DEAD# items and moves on', async () => {
    const put = await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(6));
    const { invocations, handler } = recordingHandler((event) => failed(event, (d) => d === 'r2'));
    const poller = await startPoller(handler, { batchSize: 6, maxRetryAttempts: 2 });
    await poller.drained();

    // First attempt plus 2 retries, each from r2; then r2 is discarded and nothing is re-read.
    expect(invocations.map((i) => i.data[0])).toEqual(['r0', 'r2', 'r2']);
    const dead = await queryPartition(ledger.clients, ledger.config.tableName, 'DEAD#consumer-on-failure');
    expect(dead).toHaveLength(1);
    const poison = put[2];
    expect(dead[0]).toMatchObject({
      shardId: poison?.shardId,
      sequenceNumber: poison?.sequenceNumber,
      data: Buffer.from('r2').toString('base64'),
      attempts: 3,
    });
    expect(String(dead[0]?.reason)).toContain('retries-exhausted');
    expect(String(dead[0]?.sk)).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT.*#${poison?.shardId}#${poison?.sequenceNumber}$`),
    );
    const expiresIn = Number(dead[0]?.expiresAt) - Date.now() / 1000;
    expect(Math.abs(expiresIn - DEAD_LETTER_TTL_SECONDS)).toBeLessThan(120);
    expect(poller.checkpoints.get(poison?.shardId ?? '')).toBe(put.at(-1)?.sequenceNumber);
  });

  it('dead-letters records older than maxRecordAgeSeconds without invoking the handler', async () => {
    await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(2, 'old'));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const { invocations, handler } = recordingHandler(() => ({ batchItemFailures: [] }));
    const poller = await startPoller(handler, { maxRecordAgeSeconds: 1 });
    await poller.drained();
    expect(invocations).toEqual([]);
    const dead = await queryPartition(ledger.clients, ledger.config.tableName, 'DEAD#consumer-on-failure');
    expect(dead.map((item) => item.reason)).toEqual([
      expect.stringContaining('record-expired'),
      expect.stringContaining('record-expired'),
    ]);
  });

  it('resumes from its checkpoint after a restart: nothing re-read, nothing skipped', async () => {
    const first = recordingHandler(() => ({ batchItemFailures: [] }));
    const before = await startPoller(first.handler);
    await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(5, 'a'));
    await before.drained();
    await before.stop();

    const put = await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(5, 'b'));
    const [item] = await queryPartition(
      ledger.clients,
      ledger.config.tableName,
      checkpointKey(ledger.config.streamName, '').pk,
    );
    expect(item?.sequenceNumber).toBe(first.invocations.at(-1)?.sequenceNumbers.at(-1));

    const second = recordingHandler(() => ({ batchItemFailures: [] }));
    const after = await startPoller(second.handler);
    await after.drained();
    expect(first.invocations.flatMap((i) => i.data)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(second.invocations.flatMap((i) => i.data)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(after.checkpoints.get(put[0]?.shardId ?? '')).toBe(put.at(-1)?.sequenceNumber);
  });

  it('finishes the in-flight batch on stop() and checkpoints it', async () => {
    await putRecords(ledger.clients.kinesis, ledger.config.streamName, records(3));
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const poller = await startPoller(async () => {
      entered();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await inHandler;
    const stopped = poller.stop();
    setTimeout(() => release(), 100);
    await stopped;
    expect(poller.counters).toMatchObject({ batches: 1, processed: 3 });
    const [item] = await queryPartition(
      ledger.clients,
      ledger.config.tableName,
      `CKPT#${ledger.config.streamName}`,
    );
    expect(item?.sequenceNumber).toBe([...poller.checkpoints.values()][0]);
  });
});
