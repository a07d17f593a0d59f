import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import type { RuntimeConfig } from '../../shared/config.js';
import {
  type CommandOutcome,
  LedgerService,
  type StreamRecord,
} from '../../shared/services/ledger-service.js';
import { runOrdered } from '../../shared/services/ordered-runner.js';

/** Records applied at once within a batch (different accounts only; one account stays in order). */
export const CONSUMER_CONCURRENCY_MAX = 8;

export interface ConsumerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly concurrency?: number;
}

export type ConsumerHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/**
 * The Kinesis handler: decodes every record, applies them with per-account order and bounded
 * concurrency, and answers a partial batch response naming the records that failed transiently
 * (the event source retries from the first of them; writes are idempotent, so the records after
 * it that already applied are no-ops when redelivered).
 */
export function createConsumer(service: LedgerService, options: ConsumerOptions): ConsumerHandler {
  const { logger, metrics } = options;
  return async (event) => {
    const records = event.Records.map(toStreamRecord);
    const decoded = records.map((r) => service.decode(r));
    const outcomes: CommandOutcome[] = [];
    const applied = await runOrdered(
      records.map((_, i) => i),
      (i) => service.keysOf(decoded[i] ?? { ok: false, reason: 'missing' }),
      async (i) => {
        const record = records[i];
        const result = decoded[i];
        if (record === undefined || result === undefined) throw new Error(`record ${i} missing`);
        try {
          outcomes.push(await service.handle(record, result));
        } catch (error) {
          logger.warn('record not applied; the stream will redeliver it', { recordId: record.id, error });
          throw error;
        }
      },
      options.concurrency ?? CONSUMER_CONCURRENCY_MAX,
    );
    countOutcomes(metrics, outcomes, applied);
    metrics.publishStoredMetrics();
    const appliedBySequence = new Map(
      event.Records.map((r, i) => [r.kinesis.sequenceNumber, applied[i] === true]),
    );
    return processPartialResponse(
      event,
      async (record: KinesisStreamRecord) => {
        if (appliedBySequence.get(record.kinesis.sequenceNumber) !== true) {
          throw new Error(`record ${record.eventID} not applied`);
        }
      },
      new BatchProcessor(EventType.KinesisDataStreams),
      { throwOnFullBatchFailure: false },
    );
  };
}

function toStreamRecord(r: KinesisStreamRecord): StreamRecord {
  return { id: r.eventID, partitionKey: r.kinesis.partitionKey, data: Buffer.from(r.kinesis.data, 'base64') };
}

function countOutcomes(
  metrics: Metrics,
  outcomes: readonly CommandOutcome[],
  applied: readonly boolean[],
): void {
  const counts: Record<string, number> = {
    TransfersPosted: 0,
    TransfersRejected: 0,
    AccountsOpened: 0,
    DuplicatesSkipped: 0,
    RecordsDeadLettered: 0,
  };
  const names = {
    posted: 'TransfersPosted',
    rejected: 'TransfersRejected',
    opened: 'AccountsOpened',
    duplicate: 'DuplicatesSkipped',
    dead_lettered: 'RecordsDeadLettered',
  } as const;
  for (const o of outcomes) counts[names[o.status]] = (counts[names[o.status]] ?? 0) + 1;
  counts.RecordsFailed = applied.filter((ok) => !ok).length;
  for (const [name, value] of Object.entries(counts)) {
    if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
  }
}

/** Wires the consumer over the real adapters (Lambda and the local stack). */
export function buildConsumerHandler(
  config: RuntimeConfig,
  overrides: Partial<ConsumerOptions> = {},
): ConsumerHandler {
  const { dynamodb } = createClients(config);
  const store = new DynamoLedgerStore(dynamodb, config.tableName);
  const service = new LedgerService(store, store, config.ledgerRegion);
  return createConsumer(service, {
    logger: overrides.logger ?? new Logger({ serviceName: 'ledger-consumer' }),
    // The namespace comes from POWERTOOLS_METRICS_NAMESPACE (set by the CDK stack; its alarms read it).
    metrics:
      overrides.metrics ??
      new Metrics({
        namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgeLedger',
        serviceName: 'ledger-consumer',
      }),
    ...(overrides.concurrency === undefined ? {} : { concurrency: overrides.concurrency }),
  });
}
