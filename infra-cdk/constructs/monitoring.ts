import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_METRICS } from '../../shared/services/audit-service.js';
import { AUDITOR_SERVICE_NAME, type Auditor } from './auditor.js';
import type { IngestApi } from './ingest-api.js';
import type { LedgerConsumer } from './ledger-consumer.js';
import type { LedgerFunction } from './ledger-function.js';
import type { Reconciler } from './reconciler.js';

/** The consumer is behind when its oldest unread record is older than this, for 5 minutes running. */
const ITERATOR_AGE_MS_MAX = 60_000;
/** API 5xx responses per minute tolerated before the alarm (and the Route 53 health check) trips. */
const API_5XX_PER_MINUTE_MAX = 5;
/** Below this many applied transfers in 5 minutes a rejection share says nothing. */
const REJECTION_RATE_VOLUME_MIN = 20;
const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

export interface MonitoringProps {
  /** Encrypts the alarm topic; CloudWatch must be allowed to use it (EncryptionKey.allowCloudWatchAlarms). */
  readonly topicKey: kms.IKey;
  readonly alarmEmail?: string;
  readonly metricsNamespace: string;
  readonly rejectedTransferRatePercent: number;
  readonly dashboardName: string;
  readonly api: IngestApi;
  readonly ingest: LedgerFunction;
  readonly consumer: LedgerConsumer;
  readonly reconciler: Reconciler;
  readonly auditor: Auditor;
}

/**
 * Alarms on what means money is not moving (consumer behind, failing or throttled, records parked on the
 * on-failure queue, API 5xx, reconciler failing), is moving oddly (a high share of rejected transfers) or
 * does not add up (a ledger audit difference, or the audit failing to run), all notifying one KMS-encrypted
 * SNS topic, and a dashboard of the same signals.
 */
export class Monitoring extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** A plain metric alarm (no math), so a Route 53 health check can follow it. */
  public readonly api5xxAlarm: cloudwatch.Alarm;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Edge ledger alarms',
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const posted = this.ledgerMetric(props, 'TransfersPosted');
    const rejected = this.ledgerMetric(props, 'TransfersRejected');

    this.api5xxAlarm = this.alarm('Api5xx', {
      alarmDescription: `The HTTP API answered more than ${API_5XX_PER_MINUTE_MAX} 5xx a minute, 3 minutes of 5.`,
      metric: props.api.httpApi.metricServerError({ period: ONE_MINUTE, statistic: 'Sum' }),
      threshold: API_5XX_PER_MINUTE_MAX,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    this.alarms = [
      this.api5xxAlarm,
      ...this.consumerAlarms(props.consumer),
      this.alarm('ReconcilerErrors', {
        alarmDescription: 'The reconciler failed 3 runs of 5: stuck ACCEPTED transfers are not re-enqueued.',
        metric: props.reconciler.handler.function.metricErrors({ period: ONE_MINUTE, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      }),
      this.rejectionRateAlarm(props.rejectedTransferRatePercent, posted, rejected),
      ...this.auditAlarms(props),
    ];
    this.dashboard = this.buildDashboard(props, posted, rejected);
  }

  private consumerAlarms(consumer: LedgerConsumer): cloudwatch.Alarm[] {
    const fn = consumer.handler.function;
    const depth = (queue: sqs.IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' });
    return [
      this.alarm('ConsumerIteratorAge', {
        alarmDescription: 'The ledger consumer is more than a minute behind the stream, 5 minutes running.',
        metric: fn.metric('IteratorAge', { period: ONE_MINUTE, statistic: 'Maximum' }),
        threshold: ITERATOR_AGE_MS_MAX,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
      }),
      this.alarm('ConsumerErrors', {
        alarmDescription: 'Ledger consumer invocations failed (crash or timeout), 3 minutes of 5.',
        metric: fn.metricErrors({ period: ONE_MINUTE, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      }),
      this.alarm('ConsumerThrottles', {
        alarmDescription: 'Ledger consumer invocations were throttled, 3 minutes of 5.',
        metric: fn.metricThrottles({ period: ONE_MINUTE, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      }),
      this.alarm('ConsumerFailureQueueDepth', {
        alarmDescription: 'Stream records gave up and wait for a redrive (docs/DEPLOY.md, "Redrive").',
        metric: depth(consumer.failureQueue),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      }),
      this.alarm('ConsumerFailureDlqDepth', {
        alarmDescription: 'On-failure messages a redrive could not handle were dead-lettered.',
        metric: depth(consumer.failureDeadLetterQueue),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      }),
    ];
  }

  /**
   * One difference is one too many: the audit reports only what fresh consistent reads confirmed (a
   * transfer in flight during the scan is not a difference), so the alarm fires on the first run that
   * finds any. A run that cannot finish (read bound, throttling) raises the function's Errors instead.
   */
  private auditAlarms(props: MonitoringProps): cloudwatch.Alarm[] {
    const period = props.auditor.interval;
    return [
      this.alarm('LedgerAuditDifferences', {
        alarmDescription:
          'The ledger audit found differences (sums, journals, holds or limits): see the auditor logs for the named accounts and transfers.',
        metric: this.auditMetric(props, AUDIT_METRICS.differences, 'Maximum', period),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      }),
      this.alarm('AuditorErrors', {
        alarmDescription:
          'Two ledger audit runs in a row failed (read bound exceeded, throttling or a crash): the ledger is not audited.',
        metric: props.auditor.handler.function.metricErrors({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
      }),
    ];
  }

  private auditMetric(
    props: MonitoringProps,
    metricName: string,
    statistic: string,
    period: Duration,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: props.metricsNamespace,
      metricName,
      dimensionsMap: { service: AUDITOR_SERVICE_NAME },
      statistic,
      period,
    });
  }

  private rejectionRateAlarm(
    percentMax: number,
    posted: cloudwatch.Metric,
    rejected: cloudwatch.Metric,
  ): cloudwatch.Alarm {
    return this.alarm('RejectedTransferRate', {
      alarmDescription: `More than ${percentMax}% of applied transfers were rejected in 5 minutes (at least ${REJECTION_RATE_VOLUME_MIN} applied).`,
      metric: new cloudwatch.MathExpression({
        label: 'Rejected transfers (%)',
        expression: `IF((p + r) >= ${REJECTION_RATE_VOLUME_MIN}, 100 * r / (p + r), 0)`,
        usingMetrics: { p: fillZero(posted, 'fp'), r: fillZero(rejected, 'fr') },
        period: FIVE_MINUTES,
      }),
      threshold: percentMax,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
  }

  private ledgerMetric(props: MonitoringProps, metricName: string): cloudwatch.Metric {
    // Powertools adds the `service` dimension (POWERTOOLS_SERVICE_NAME) to every metric it emits.
    return new cloudwatch.Metric({
      namespace: props.metricsNamespace,
      metricName,
      dimensionsMap: { service: 'ledger-consumer' },
      statistic: 'Sum',
      period: FIVE_MINUTES,
    });
  }

  private alarm(id: string, props: Omit<cloudwatch.AlarmProps, 'treatMissingData'>): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means no traffic (or no failures): not an alarm.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    return alarm;
  }

  private buildDashboard(
    props: MonitoringProps,
    posted: cloudwatch.Metric,
    rejected: cloudwatch.Metric,
  ): cloudwatch.Dashboard {
    const api = props.api.httpApi;
    const fns = {
      ingest: props.ingest,
      consumer: props.consumer.handler,
      reconciler: props.reconciler.handler,
      auditor: props.auditor.handler,
    };
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 }),
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [api.metricCount(), api.metricClientError(), api.metricServerError()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [api.metricLatency({ statistic: 'p50' }), api.metricLatency({ statistic: 'p99' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Transfers applied',
        left: [posted, rejected],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Consumer iterator age (ms, max)',
        left: [props.consumer.handler.function.metric('IteratorAge', { statistic: 'Maximum' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: Object.entries(fns).map(([name, f]) => f.function.metricErrors({ label: name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: Object.entries(fns).map(([name, f]) => f.function.metricThrottles({ label: name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration p99 (ms)',
        left: Object.entries(fns).map(([name, f]) =>
          f.function.metricDuration({ label: name, statistic: 'p99' }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ledger audit (differences, transfers in flight)',
        left: [
          this.auditMetric(props, AUDIT_METRICS.differences, 'Maximum', props.auditor.interval),
          this.auditMetric(props, AUDIT_METRICS.inFlight, 'Maximum', props.auditor.interval),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'On-failure queue and DLQ depth',
        left: [
          props.consumer.failureQueue.metricApproximateNumberOfMessagesVisible({ label: 'on-failure' }),
          props.consumer.failureDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'dlq' }),
        ],
        width: 12,
      }),
    );
    return dashboard;
  }
}

function fillZero(metric: cloudwatch.Metric, id: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({ expression: `FILL(${id}, 0)`, usingMetrics: { [id]: metric } });
}
