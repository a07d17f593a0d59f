import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { type BundlingSettings, LedgerFunction, type ObservabilitySettings } from './ledger-function.js';
import type { LedgerTable } from './ledger-table.js';
import type { TransferStream } from './transfer-stream.js';

/** How often the reconciler looks for transfers stuck in ACCEPTED. */
export const RECONCILE_INTERVAL = Duration.minutes(1);

export interface ReconcilerProps {
  readonly entry: string;
  readonly ledger: LedgerTable;
  readonly stream: TransferStream;
  readonly ledgerRegion: string;
  readonly observability: ObservabilitySettings;
  readonly bundling: BundlingSettings;
}

/**
 * The reconciler: every minute, finds transfers recorded ACCEPTED whose stream record may never have been
 * written (ingest crashed between the two writes) and puts them on the stream again. Re-enqueueing is safe
 * because the consumer applies each transfer once, whatever the number of copies.
 */
export class Reconciler extends Construct {
  public readonly handler: LedgerFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    this.handler = new LedgerFunction(this, 'Reconciler', {
      entry: props.entry,
      serviceName: 'reconciler',
      description: 'Re-enqueues transfers stuck in ACCEPTED',
      memorySizeMb: 512,
      // Shorter than the interval, so runs never overlap.
      timeout: Duration.seconds(50),
      environment: {
        LEDGER_TABLE_NAME: props.ledger.tableName,
        TRANSFER_STREAM_NAME: props.stream.stream.streamName,
        LEDGER_REGION: props.ledgerRegion,
      },
      observability: props.observability,
      bundling: props.bundling,
    });
    props.ledger.grantReconcilerAccess(this.handler.function);
    props.stream.grantPublish(this.handler.function, { batchOnly: true });

    // An EventBridge rule invokes through the function's resource policy (scoped to this rule's ARN): no
    // role to hold an invoke permission. A missed run is not retried: the next one finds the same transfers.
    this.handler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: RECONCILE_INTERVAL });
    this.schedule = new events.Rule(this, 'EveryMinute', {
      description: 'Runs the ledger reconciler',
      schedule: events.Schedule.rate(RECONCILE_INTERVAL),
      targets: [
        new targets.LambdaFunction(this.handler.function, {
          retryAttempts: 0,
          maxEventAge: RECONCILE_INTERVAL,
        }),
      ],
    });
  }
}
