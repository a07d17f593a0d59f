import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EncryptionKey } from './encryption-key.js';
import { type BundlingSettings, LedgerFunction, type ObservabilitySettings } from './ledger-function.js';
import type { LedgerTable } from './ledger-table.js';
import type { PeerRegion } from './peer-region.js';
import type { TransferStream } from './transfer-stream.js';

/**
 * Every option of the Kinesis event source, chosen on purpose (docs/DEPLOY.md explains each too).
 */
export const CONSUMER_EVENT_SOURCE = {
  /** Start at the oldest record kept: a new or re-created mapping never skips accepted transfers. */
  startingPosition: lambda.StartingPosition.TRIM_HORIZON,
  /** 100 commands: a few seconds of work for the handler, and a poison record is isolated in 7 halvings. */
  batchSize: 100,
  /** Wait up to 1 s to fill a batch: bounds the added posting latency while grouping bursts. */
  maxBatchingWindow: Duration.seconds(1),
  /** On a function error, split the batch and retry the halves, so one bad record stops fewer good ones. */
  bisectBatchOnError: true,
  /** The handler names the records that failed; Lambda retries from the first of them, not the batch. */
  reportBatchItemFailures: true,
  /**
   * Retries before the batch goes to the on-failure queue: enough for the halvings down to one record
   * (7 for 100) plus a few plain retries, while a record that can never apply stops its shard only briefly.
   * Transient AWS errors are already retried inside the handler (SDK retries, bounded apply attempts).
   */
  retryAttempts: 10,
  /**
   * Records older than this skip to the on-failure queue. One day rides out a long dependency outage
   * without dropping valid transfers, and stays well inside the 7-day stream retention, so a failed
   * record can still be read back and redriven for 6 days.
   */
  maxRecordAge: Duration.days(1),
  /**
   * Concurrent batches per shard. Lambda keeps records of one partition key (the debited account) in order
   * across them, so order per account holds; 4 lets a hot shard drain 4x faster before on-demand Kinesis
   * splits it. Postings touching one account from two batches are serialized by DynamoDB conditions.
   */
  parallelizationFactor: 4,
  /** Consuming from the first deploy on. (No tumbling window: the ledger keeps no state across calls.) */
  enabled: true,
  /**
   * Event source mapping metrics (polled, filtered, failed-invoke, dropped, on-failure-delivered counts).
   * EventCount only: ErrorCount and KafkaMetrics exist for Kafka sources alone.
   */
  metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] },
} as const;

/** Time the on-failure messages are kept: SQS's maximum, to leave room for a redrive. */
const FAILURE_RETENTION = Duration.days(14);
/** Receives of one on-failure message (by an operator tool or redrive) before it moves to the DLQ. */
const FAILURE_RECEIVES_MAX = 5;
/** Longer than any redrive step that holds a message while it replays the pointed-to records. */
const FAILURE_VISIBILITY_TIMEOUT = Duration.minutes(15);

export interface LedgerConsumerProps {
  readonly entry: string;
  /** Physical function name, the same in every region (the operator role names it in both). */
  readonly functionName: string;
  readonly aliasPrefix: string;
  readonly ledger: LedgerTable;
  readonly stream: TransferStream;
  /** The other regions, to which the consumer forwards commands for accounts homed there. */
  readonly peers: readonly PeerRegion[];
  readonly ledgerRegion: string;
  /** LEDGER_REGIONS: every region's table and stream names, as JSON (infra-cdk/config.ts). */
  readonly ledgerRegionsJson: string;
  readonly observability: ObservabilitySettings;
  readonly bundling: BundlingSettings;
}

/**
 * The ledger consumer: a function fed by the Kinesis stream that applies each command exactly once.
 *
 * Commands for accounts homed in another region, and the cross-region credit legs and results, are
 * forwarded to that region's stream, after making sure the transfer's record exists in that region's
 * replica. It may put records on other regions' streams only: never on its own, which it reads.
 *
 * A batch that still fails after the retries (or whose records got too old) is not lost: Lambda sends an
 * on-failure record to `failureQueue` holding the shard id and the first and last sequence numbers, and the
 * records themselves stay in the stream for its retention. docs/DEPLOY.md gives the redrive procedure.
 * The on-failure queue has its own DLQ for messages a redrive could not handle.
 */
export class LedgerConsumer extends Construct {
  public readonly handler: LedgerFunction;
  public readonly failureQueue: sqs.Queue;
  public readonly failureDeadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.IKey;
  public readonly eventSource: KinesisEventSource;

  constructor(scope: Construct, id: string, props: LedgerConsumerProps) {
    super(scope, id);
    this.queueKey = new EncryptionKey(this, 'QueueKey', {
      alias: `${props.aliasPrefix}/consumer-failures`,
      description: 'Encrypts the ledger consumer on-failure queue and its DLQ',
    }).key;
    this.failureDeadLetterQueue = this.encryptedQueue('FailureDlq');
    this.failureQueue = this.encryptedQueue('FailureQueue', {
      queue: this.failureDeadLetterQueue,
      maxReceiveCount: FAILURE_RECEIVES_MAX,
    });

    this.handler = new LedgerFunction(this, 'Consumer', {
      entry: props.entry,
      functionName: props.functionName,
      serviceName: 'ledger-consumer',
      description: 'Applies ledger commands from the stream to the ledger table, exactly once',
      // Tens of DynamoDB round trips per batch; memory also buys CPU for decoding and JSON.
      memorySizeMb: 1024,
      // A batch of 100 takes seconds; the margin covers the handler's own bounded retries.
      timeout: Duration.seconds(60),
      environment: {
        LEDGER_TABLE_NAME: props.ledger.tableName,
        TRANSFER_STREAM_NAME: props.stream.stream.streamName,
        LEDGER_REGION: props.ledgerRegion,
        LEDGER_REGIONS: props.ledgerRegionsJson,
      },
      observability: props.observability,
      bundling: props.bundling,
    });
    props.ledger.grantConsumerAccess(this.handler.function);
    // Its own stream too: after a failover both legs of a cross-region transfer may be homed here, and
    // the credit result then goes to this region's stream (docs/MULTI-REGION.md). PutRecords only.
    props.stream.grantPublish(this.handler.function, { batchOnly: true });
    for (const peer of props.peers) {
      peer.grantPublish(this.handler.function);
      peer.grantForwarderAccess(this.handler.function);
    }

    // The event source grants the stream reads (and the stream key's Decrypt).
    this.eventSource = new KinesisEventSource(props.stream.stream, {
      ...CONSUMER_EVENT_SOURCE,
      metricsConfig: { metrics: [...CONSUMER_EVENT_SOURCE.metricsConfig.metrics] },
      onFailure: new EncryptedQueueDestination(this.failureQueue, this.queueKey),
    });
    this.handler.function.addEventSource(this.eventSource);
  }

  private encryptedQueue(id: string, deadLetterQueue?: sqs.DeadLetterQueue): sqs.Queue {
    return new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      retentionPeriod: FAILURE_RETENTION,
      visibilityTimeout: FAILURE_VISIBILITY_TIMEOUT,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(deadLetterQueue === undefined ? {} : { deadLetterQueue }),
    });
  }
}

/**
 * On-failure destination on a KMS-encrypted queue with exactly the grants Lambda needs to send to it
 * (SendMessage, and GenerateDataKey/Decrypt on its key), instead of SqsDlq's wider grantSendMessages.
 */
class EncryptedQueueDestination implements lambda.IEventSourceDlq {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly key: kms.IKey,
  ) {}

  bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    targetHandler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SendOnFailureRecords',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    );
    targetHandler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EncryptOnFailureRecords',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    );
    return { destination: this.queue.queueArn };
  }
}
