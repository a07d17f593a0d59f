import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../infra-cdk/constructs/auditor.js';
import { LedgerTable } from '../../infra-cdk/constructs/ledger-table.js';
import {
  actionsOf,
  REPO_ROOT,
  resourcesOf,
  roleStatements,
  SYNTH_TIMEOUT_MS,
  type SynthesizedLedger,
  statementsAllowing,
  synthLedger,
} from './synth.js';

/** Every DynamoDB action that changes data or the table: the auditor must have none. */
const DYNAMODB_CHANGES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:UpdateTable',
  'dynamodb:DeleteTable',
  'dynamodb:RestoreTableFromBackup',
];

let synth: SynthesizedLedger;
const regional = () => [synth.primary, synth.secondary];
const auditorFunction = (t: Template) => {
  const fns = Object.entries(resourcesOf(t, 'AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith('AuditorFunction'),
  );
  expect(fns).toHaveLength(1);
  return fns[0] as [string, { Properties?: Record<string, unknown> }];
};

beforeAll(() => {
  synth = synthLedger();
}, SYNTH_TIMEOUT_MS);
afterAll(() => synth?.cleanup());

describe('auditor function', () => {
  it('audits the table of its stack, for the accounts homed in its region, with a read bound', () => {
    for (const [t, region] of [
      [synth.primary, 'us-east-2'],
      [synth.secondary, 'ca-central-1'],
    ] as const) {
      const [, fn] = auditorFunction(t);
      expect(fn.Properties?.Environment).toEqual({
        Variables: expect.objectContaining({
          LEDGER_TABLE_NAME: 'edge-ledger',
          LEDGER_REGION: region,
          AUDIT_ITEMS_MAX: '1000000',
          POWERTOOLS_SERVICE_NAME: 'auditor',
          POWERTOOLS_METRICS_NAMESPACE: 'EdgeLedger',
        }),
      });
      expect(fn.Properties?.Handler).toBe('index.handler');
    }
  });

  it('times out before the next run starts, and is not retried', () => {
    const [logicalId, fn] = auditorFunction(synth.primary);
    expect(fn.Properties?.Timeout).toBe(14 * 60);
    synth.primary.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 15 * 60,
    });
  });
});

describe('auditor schedule', () => {
  it('runs every 15 minutes, invoking the auditor without retries', () => {
    for (const t of regional()) {
      const [logicalId] = auditorFunction(t);
      t.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalId, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 900 },
          }),
        ],
      });
    }
  });

  it('may be invoked by that rule only', () => {
    const [logicalId] = auditorFunction(synth.primary);
    synth.primary.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [logicalId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuditorSchedule'), 'Arn'] },
    });
  });

  it('refuses an interval shorter than a full table read should run', () => {
    const stack = new Stack(new App(), 'Probe', { env: { account: '123456789012', region: 'us-east-2' } });
    const key = new kms.Key(stack, 'Key');
    const ledger = new LedgerTable(stack, 'Ledger', { mode: 'replica', tableName: 'edge-ledger', key });
    const observability = {
      logKey: key,
      logRetentionDays: logs.RetentionDays.ONE_YEAR,
      logLevel: 'INFO' as const,
      metricsNamespace: 'EdgeLedger',
    };
    expect(
      () =>
        new Auditor(stack, 'Auditor', {
          entry: 'functions/auditor/handler.ts',
          ledger,
          ledgerRegion: 'us-east-2',
          observability,
          bundling: { projectRoot: REPO_ROOT },
          interval: Duration.minutes(1),
        }),
    ).toThrow(/at least 5 minutes/);
  });
});

describe('auditor least privilege', () => {
  it('reads the table with Scan, Query, GetItem and BatchGetItem only, on the base table', () => {
    for (const t of regional()) {
      const statements = roleStatements(t, 'AuditorRole');
      const dynamodb = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      expect(dynamodb).toHaveLength(1);
      expect(actionsOf(dynamodb[0] as (typeof statements)[number]).sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:Scan',
      ]);
      expect(JSON.stringify(dynamodb[0]?.Resource)).not.toContain('/index/');
      expect(statementsAllowing(statements, DYNAMODB_CHANGES)).toEqual([]);
    }
  });

  it('uses the table key to decrypt only, through DynamoDB in its own region', () => {
    const key = roleStatements(synth.secondary, 'AuditorRole').filter((s) =>
      actionsOf(s).some((a) => a.startsWith('kms:')),
    );
    expect(key).toHaveLength(1);
    expect(actionsOf(key[0] as (typeof key)[number]).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    expect(key[0]?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'dynamodb.ca-central-1.amazonaws.com' },
    });
    expect(JSON.stringify(key[0]?.Resource)).toContain('LedgerReplicaKey-ca-central-1');
  });

  it('can reach nothing else: no stream, no queue, and Resource * only for X-Ray', () => {
    for (const t of regional()) {
      const statements = roleStatements(t, 'AuditorRole');
      expect(
        statementsAllowing(statements, ['kinesis:PutRecords', 'kinesis:GetRecords', 'sqs:SendMessage']),
      ).toEqual([]);
      const wildcard = statements.filter((s) => JSON.stringify(s.Resource) === '"*"');
      expect(wildcard.flatMap(actionsOf).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
  });
});

describe('auditor alarms', () => {
  it('alarm on the first difference an audit run reports, to the alarm topic', () => {
    for (const t of regional()) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'EdgeLedger',
        MetricName: 'LedgerAuditDifferences',
        Dimensions: [{ Name: 'service', Value: 'auditor' }],
        Statistic: 'Maximum',
        Period: 900,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') }],
        OKActions: [{ Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') }],
      });
    }
  });

  it('alarm when two runs in a row fail, so a broken audit is not a silent one', () => {
    const [logicalId] = auditorFunction(synth.primary);
    synth.primary.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId } }],
      Period: 900,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') }],
    });
  });
});

describe('cdk-nag with the auditor', () => {
  it('leaves no unacknowledged finding', () => {
    expect(synth.validationReport.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });
});
