import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { type RegionWiringOptions, wireRegions } from '../../shared/adapters/regions.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { CommandRouter } from '../../shared/services/command-router.js';
import {
  LedgerService,
  type RecordOutcome,
  type StreamRecord,
} from '../../shared/services/ledger-service.js';

export interface ConsumerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** How long the consumer trusts its region's standing (ACTIVE / FENCED) before reading it again. */
const STANDING_CACHE_MS = 1_000;

export type ConsumerHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/** Metric names per outcome; the CDK alarms read TransfersRejected and RecordsDeadLettered. */
const METRIC_OF: Record<RecordOutcome['status'], string> = {
  posted: 'TransfersPosted',
  held: 'HoldsPlaced',
  captured: 'HoldsCaptured',
  released: 'HoldsReleased',
  rejected: 'TransfersRejected',
  opened: 'AccountsOpened',
  updated: 'AccountsUpdated',
  duplicate: 'DuplicatesSkipped',
  ignored: 'ActionsIgnored',
  debited: 'CrossRegionDebits',
  credited: 'CrossRegionCredits',
  credit_failed: 'CrossRegionCreditsFailed',
  returned: 'TransfersReturned',
  forwarded: 'CommandsForwarded',
  unappliable: 'RecordsDeadLettered',
  dead_lettered: 'RecordsDeadLettered',
};

/**
 * The Kinesis handler: applies the batch in stream order (see LedgerService) and answers a partial
 * batch response naming the records not applied, from the first transient failure on. The event
 * source retries from the lowest of them; the records before it are not redelivered, and any that
 * are redelivered anyway are duplicates by construction.
 */
export function createConsumer(service: LedgerService, options: ConsumerOptions): ConsumerHandler {
  const { logger, metrics } = options;
  return async (event) => {
    const records = event.Records.map(toStreamRecord);
    const { outcomes, failedFrom } = await service.handleBatch(records);
    if (failedFrom !== undefined) {
      logger.warn('records not applied; the stream will redeliver them', {
        firstRecordId: records[failedFrom]?.id,
        notApplied: records.length - failedFrom,
      });
    }
    countOutcomes(metrics, outcomes);
    metrics.publishStoredMetrics();
    const applied = new Map(
      event.Records.map((r, i) => [r.kinesis.sequenceNumber, outcomes[i] !== undefined]),
    );
    return processPartialResponse(
      event,
      async (record: KinesisStreamRecord) => {
        if (applied.get(record.kinesis.sequenceNumber) !== true)
          throw new Error(`record ${record.eventID} not applied`);
      },
      new BatchProcessor(EventType.KinesisDataStreams),
      { throwOnFullBatchFailure: false },
    );
  };
}

function toStreamRecord(r: KinesisStreamRecord): StreamRecord {
  return { id: r.eventID, partitionKey: r.kinesis.partitionKey, data: Buffer.from(r.kinesis.data, 'base64') };
}

function countOutcomes(metrics: Metrics, outcomes: readonly (RecordOutcome | undefined)[]): void {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const name = o === undefined ? 'RecordsFailed' : METRIC_OF[o.status];
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  for (const [name, value] of counts) metrics.addMetric(name, MetricUnit.Count, value);
}

/** Wires the consumer over the real adapters (Lambda and the local stack). */
export function buildConsumerHandler(
  config: RuntimeConfig,
  overrides: Partial<ConsumerOptions> & RegionWiringOptions = {},
): ConsumerHandler {
  const wired = wireRegions(config, overrides);
  const store = wired.store;
  const logger = overrides.logger ?? new Logger({ serviceName: 'ledger-consumer' });
  const multiRegion = config.regions.size > 1;
  let standing: { fenced: boolean; readAt: number } | undefined;
  const service = new LedgerService(store, store, config.ledgerRegion, undefined, {
    sender: new CommandRouter(wired.regions),
    multiRegion,
    onSendFailed: (command, errorCode) =>
      logger.warn('command for another region not sent; the reconciler sends it again', {
        type: command.type,
        errorCode,
      }),
    ...(multiRegion
      ? {
          isFenced: async () => {
            if (standing === undefined || Date.now() - standing.readAt > STANDING_CACHE_MS) {
              const control = await store.getRegionControl(config.ledgerRegion);
              standing = { fenced: control?.status === 'FENCED', readAt: Date.now() };
            }
            return standing.fenced;
          },
        }
      : {}),
  });
  return createConsumer(service, {
    logger,
    // The namespace comes from POWERTOOLS_METRICS_NAMESPACE (set by the CDK stack; its alarms read it).
    metrics:
      overrides.metrics ??
      new Metrics({
        namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgeLedger',
        serviceName: 'ledger-consumer',
      }),
  });
}
