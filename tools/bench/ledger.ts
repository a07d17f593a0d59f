import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BatchGetItemCommand, DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { type ConsumerHandler, createConsumer } from '../../functions/ledger-consumer/consumer.js';
import { type AwsClients, createClients } from '../../shared/adapters/clients.js';
import { transferKey } from '../../shared/adapters/dynamo-codec.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { KinesisCommandQueue } from '../../shared/adapters/kinesis-command-queue.js';
import { LEDGER_KEYS } from '../../shared/adapters/ledger-table.js';
import { loadConfig, type RuntimeConfig } from '../../shared/config.js';
import { encodeCommand, openAccountCommand } from '../../shared/domain/commands.js';
import { type AccountSpec, accountFingerprint, type TransferRequest } from '../../shared/domain/ledger.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import { LedgerService } from '../../shared/services/ledger-service.js';
import { type EventSource, type StreamRecord, toKinesisEvent } from '../local/kinesis-event.js';
import { ensureStream, ensureTable } from '../local/provision.js';
import { DynamoRecorder } from './capture.js';

/** Records per consumer invocation: the CDK event source mapping's batch size. */
export const CONSUMER_BATCH_SIZE = 100;
/** Transfers per ingest call (IngestService.submitTransfers: one PutRecords each). */
const INGEST_CHUNK = 100;
/** Re-invocations of a batch that reported failures, as the event source mapping would retry. */
const BATCH_RETRIES_MAX = 10;
const GET_RECORDS_CALLS_MAX = 1_000;
const STATUS_KEYS_MAX = 100;
export const BENCH_REGION = 'us-east-1';

export interface Endpoints {
  readonly dynamodbEndpoint: string;
  readonly kinesisEndpoint: string;
}

/** How much the ledger's DynamoDB client records: nothing, keys and outcomes, or full item images. */
export type RecordMode = 'none' | 'keys' | 'images';

/**
 * A ledger of its own (table and one-shard stream) on the emulators, with the product's services
 * wired over clients the bench owns: IngestService and the consumer (createConsumer over
 * LedgerService and DynamoLedgerStore), exactly as the Lambda handlers wire them.
 */
export interface BenchLedger {
  readonly config: RuntimeConfig;
  readonly clients: AwsClients;
  /** An uninstrumented client for the bench's own reads. */
  readonly probe: DynamoDBClient;
  readonly recorder: DynamoRecorder | undefined;
  readonly ingest: IngestService;
  readonly consumer: ConsumerHandler;
  readonly source: EventSource;
  /** Deletes the table and stream, closes the clients. */
  dispose(): Promise<void>;
}

export async function createBenchLedger(
  endpoints: Endpoints,
  name: string,
  mode: RecordMode,
): Promise<BenchLedger> {
  const config = loadConfig({
    LEDGER_TABLE_NAME: name,
    TRANSFER_STREAM_NAME: name,
    AWS_REGION: BENCH_REGION,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesisEndpoint,
  });
  const clients = createClients(config);
  const probe = createClients(config).dynamodb;
  await ensureTable(probe, name);
  const stream = await ensureStream(clients.kinesis, name, 1);
  let recorder: DynamoRecorder | undefined;
  if (mode !== 'none') {
    recorder = new DynamoRecorder({
      keys: LEDGER_KEYS,
      ...(mode === 'images' ? { probe } : {}),
    });
    recorder.attach(clients.dynamodb);
  }
  const store = new DynamoLedgerStore(clients.dynamodb, config.tableName);
  const ingest = new IngestService({
    reader: store,
    recorder: store,
    queue: new KinesisCommandQueue(clients.kinesis, config.streamName),
    region: config.ledgerRegion,
  });
  const consumer = createConsumer(
    new LedgerService(store, store, config.ledgerRegion, undefined, {
      // As buildConsumerHandler wires it for this configuration.
      multiRegion: config.regions.size > 1,
    }),
    {
      logger: new Logger({ serviceName: 'ledger-consumer', logLevel: 'ERROR' }),
      metrics: new Metrics({ namespace: 'EdgeLedgerBench', serviceName: 'ledger-consumer' }),
    },
  );
  const source: EventSource = {
    shardId: 'shardId-000000000000',
    region: BENCH_REGION,
    streamArn: stream.streamArn,
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/bench-consumer',
  };
  return {
    config,
    clients,
    probe,
    recorder,
    ingest,
    consumer,
    source,
    dispose: async () => {
      await Promise.allSettled([
        probe.send(new DeleteTableCommand({ TableName: name })),
        clients.kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true })),
      ]);
      clients.dynamodb.destroy();
      clients.kinesis.destroy();
      probe.destroy();
    },
  };
}

/** Opens accounts through the consumer itself: open_account records, batches of 100. */
export async function openAccounts(ledger: BenchLedger, specs: readonly AccountSpec[]): Promise<void> {
  const at = new Date().toISOString();
  const records: StreamRecord[] = specs.map((spec, i) => ({
    sequenceNumber: `9${String(i).padStart(20, '0')}`,
    partitionKey: spec.id,
    data: encodeCommand(openAccountCommand(spec, ledger.config.ledgerRegion, accountFingerprint(spec), at)),
    arrivedAtMs: Date.now(),
  }));
  await consume(ledger.consumer, records, ledger.source);
}

/** Submits transfers through IngestService (PutItem ACCEPTED each, then one PutRecords per chunk). */
export async function submitTransfers(
  ledger: BenchLedger,
  requests: readonly TransferRequest[],
): Promise<void> {
  for (let start = 0; start < requests.length; start += INGEST_CHUNK) {
    const outcomes = await ledger.ingest.submitTransfers(requests.slice(start, start + INGEST_CHUNK));
    const bad = outcomes.find((o) => o.kind !== 'accepted');
    if (bad !== undefined) throw new Error(`ingest did not accept a transfer: ${bad.kind}`);
  }
}

/** Every record in the ledger's (one-shard) stream, oldest first. */
export async function readStream(kinesis: KinesisClient, streamName: string): Promise<StreamRecord[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const records: StreamRecord[] = [];
  for (const shard of shards) {
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    for (let call = 0; iterator !== undefined && call < GET_RECORDS_CALLS_MAX; call++) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        if (r.SequenceNumber === undefined || r.PartitionKey === undefined || r.Data === undefined) continue;
        records.push({
          sequenceNumber: r.SequenceNumber,
          partitionKey: r.PartitionKey,
          data: r.Data,
          arrivedAtMs: r.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
        });
      }
      if ((out.Records ?? []).length === 0 && (out.MillisBehindLatest ?? 0) === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return records;
}

export interface ConsumeResult {
  /** Wall time spent inside the handler, all invocations. */
  readonly handlerMs: number;
  readonly invocations: number;
  /** Re-invocations after a reported failure. */
  readonly retries: number;
}

/**
 * Feeds records to a Kinesis handler in batches of 100, in order, as the event source mapping does:
 * after a partial failure the batch is retried from the first failed record (bounded).
 */
export async function consume(
  handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>,
  records: readonly StreamRecord[],
  source: EventSource,
  batchSize = CONSUMER_BATCH_SIZE,
): Promise<ConsumeResult> {
  let handlerMs = 0;
  let invocations = 0;
  let retries = 0;
  let start = 0;
  let attempt = 0;
  while (start < records.length) {
    const batch = records.slice(start, start + batchSize);
    const began = performance.now();
    const response = await handler(toKinesisEvent(batch, source));
    handlerMs += performance.now() - began;
    invocations++;
    const failed = (response?.batchItemFailures ?? []).map((f) =>
      batch.findIndex((r) => r.sequenceNumber === f.itemIdentifier),
    );
    if (failed.length === 0) {
      start += batch.length;
      attempt = 0;
      continue;
    }
    if (++attempt > BATCH_RETRIES_MAX)
      throw new Error(`batch at ${start} still failing after ${BATCH_RETRIES_MAX} retries`);
    retries++;
    start += Math.max(0, Math.min(...failed));
  }
  return { handlerMs, invocations, retries };
}

/** Counts of the transfers' statuses, read back from the table (strongly consistent). */
export async function transferStatuses(
  ledger: BenchLedger,
  ids: readonly string[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const table = ledger.config.tableName;
  for (let start = 0; start < ids.length; start += STATUS_KEYS_MAX) {
    let keys = ids.slice(start, start + STATUS_KEYS_MAX).map(transferKey);
    for (let round = 0; keys.length > 0 && round < BATCH_RETRIES_MAX; round++) {
      const out = await ledger.probe.send(
        new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        const status = item.status?.S ?? 'UNKNOWN';
        counts[status] = (counts[status] ?? 0) + 1;
      }
      keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return counts;
}
