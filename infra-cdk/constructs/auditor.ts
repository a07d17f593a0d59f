import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { AUDIT_DEFAULTS } from '../../shared/services/audit-service.js';
import { type BundlingSettings, LedgerFunction, type ObservabilitySettings } from './ledger-function.js';
import type { LedgerTable } from './ledger-table.js';

/**
 * How often the whole ledger is audited.
 *
 * Cost: every run reads the whole table. The Scan that finds accounts and transfers is eventually
 * consistent (0.5 read request unit per 4 KB read) and each account partition is read again with a
 * consistent Query (1 unit per 4 KB), so a run costs about 1.5 read units per 4 KB of ledger, plus the
 * few re-reads of transfers in flight. A 1 GB ledger is about 390,000 units a run; at 96 runs a day and
 * on-demand pricing (about $0.125 per million read units in us-east-1 since November 2024) that is about
 * $4.70 a day, and it grows linearly with the table: lengthen the interval as the ledger grows.
 */
export const AUDIT_INTERVAL_DEFAULT = Duration.minutes(15);
/** The audit's service name: the `service` dimension of its metrics (the alarm reads it). */
export const AUDITOR_SERVICE_NAME = 'auditor';
/** Items one run may read (scan, account reads, re-checks) before it stops with an error (memory bound). */
export const AUDIT_ITEMS_MAX_DEFAULT = AUDIT_DEFAULTS.itemsMax;
const INTERVAL_MIN = Duration.minutes(5);
/** Lambda's longest timeout and EventBridge's longest event age. */
const TIMEOUT_MAX = Duration.minutes(15);
const EVENT_AGE_MAX = Duration.hours(6);

export interface AuditorProps {
  readonly entry: string;
  readonly ledger: LedgerTable;
  /** The region this stack writes as: the audit checks the accounts homed here. */
  readonly ledgerRegion: string;
  readonly observability: ObservabilitySettings;
  readonly bundling: BundlingSettings;
  readonly interval?: Duration;
  readonly itemsMax?: number;
}

/**
 * The ledger auditor: on a schedule, checks that each currency sums to zero, that every balance and
 * held amount follows from its journal and its active holds, and that no account is below its limit,
 * without stopping traffic (functions/auditor). It publishes LedgerAuditDifferences, which Monitoring
 * alarms on. Read-only: its role can Scan, Query, GetItem and BatchGetItem the table, nothing else.
 */
export class Auditor extends Construct {
  public readonly handler: LedgerFunction;
  public readonly schedule: events.Rule;
  public readonly interval: Duration;

  constructor(scope: Construct, id: string, props: AuditorProps) {
    super(scope, id);
    this.interval = props.interval ?? AUDIT_INTERVAL_DEFAULT;
    if (this.interval.toSeconds() < INTERVAL_MIN.toSeconds()) {
      throw new Error(
        `the audit interval must be at least ${INTERVAL_MIN.toMinutes()} minutes (a full table read)`,
      );
    }
    const maxEventAge = Duration.seconds(Math.min(this.interval.toSeconds(), EVENT_AGE_MAX.toSeconds()));
    this.handler = new LedgerFunction(this, 'Auditor', {
      entry: props.entry,
      serviceName: AUDITOR_SERVICE_NAME,
      description: 'Audits the ledger: sums, journals, holds and limits',
      // The run keeps every journal line of the region in memory (bounded by AUDIT_ITEMS_MAX).
      memorySizeMb: 1769,
      // Shorter than the interval, so runs never overlap.
      timeout: Duration.seconds(Math.min(this.interval.toSeconds() - 60, TIMEOUT_MAX.toSeconds())),
      environment: {
        LEDGER_TABLE_NAME: props.ledger.tableName,
        LEDGER_REGION: props.ledgerRegion,
        AUDIT_ITEMS_MAX: String(props.itemsMax ?? AUDIT_ITEMS_MAX_DEFAULT),
      },
      observability: props.observability,
      bundling: props.bundling,
    });
    props.ledger.grantAuditorAccess(this.handler.function);

    // A missed or failed run is not retried: the next one audits the same ledger (its failure alarms).
    this.handler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Runs the ledger audit',
      schedule: events.Schedule.rate(this.interval),
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 0, maxEventAge })],
    });
  }
}
