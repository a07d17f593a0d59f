import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { type BundlingSettings, LedgerFunction, type ObservabilitySettings } from './ledger-function.js';
import type { LedgerTable } from './ledger-table.js';
import type { PeerRegion } from './peer-region.js';
import type { TransferStream } from './transfer-stream.js';

/** How often the reconciler looks for transfers stuck in ACCEPTED. */
export const RECONCILE_INTERVAL = Duration.minutes(1);

export interface ReconcilerProps {
  readonly entry: string;
  /** Physical name of the schedule rule, the same in every region (the operator role names it in both). */
  readonly ruleName: string;
  readonly ledger: LedgerTable;
  readonly stream: TransferStream;
  /** The other regions, to whose streams the reconciler re-sends credit legs. */
  readonly peers: readonly PeerRegion[];
  readonly ledgerRegion: string;
  /** LEDGER_REGIONS: every region's table and stream names, as JSON (infra-cdk/config.ts). */
  readonly ledgerRegionsJson: string;
  readonly observability: ObservabilitySettings;
  readonly bundling: BundlingSettings;
}

/**
 * The reconciler: every minute, finds transfers recorded ACCEPTED whose stream record may never have been
 * written (ingest crashed between the two writes) and puts them on the stream again. Re-enqueueing is safe
 * because the consumer applies each transfer once, whatever the number of copies. It also re-sends credit
 * legs of cross-region transfers to the other regions' streams. The failover command disables its rule in
 * a failed region (by its fixed name).
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
        LEDGER_REGIONS: props.ledgerRegionsJson,
      },
      observability: props.observability,
      bundling: props.bundling,
    });
    props.ledger.grantReconcilerAccess(this.handler.function);
    props.stream.grantPublish(this.handler.function, { batchOnly: true });
    for (const peer of props.peers) peer.grantPublish(this.handler.function);

    // An EventBridge rule invokes through the function's resource policy (scoped to this rule's ARN): no
    // role to hold an invoke permission. A missed run is not retried: the next one finds the same transfers.
    this.handler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: RECONCILE_INTERVAL });
    this.schedule = new events.Rule(this, 'EveryMinute', {
      ruleName: props.ruleName,
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
