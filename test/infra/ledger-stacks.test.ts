import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_EVENT_SOURCE } from '../../infra-cdk/constructs/ledger-consumer.js';
import { ledgerTableDefinition } from '../../shared/adapters/ledger-table.js';
import {
  actionsOf,
  type PolicyStatementJson,
  resourcesOf,
  roleStatements,
  SYNTH_TIMEOUT_MS,
  type SynthesizedLedger,
  statementsAllowing,
  synthLedger,
  TEST_ACCOUNT,
} from './synth.js';

/** Item writes that must never reach account items from ingest or the reconciler. */
const DYNAMODB_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];
const STREAM_WRITES = ['kinesis:PutRecord', 'kinesis:PutRecords'];
const TRANSFER_ONLY = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['XFER#*'] } };

let synth: SynthesizedLedger;
let primary: Template;
let secondary: Template;
const regional = () => [primary, secondary];

beforeAll(() => {
  synth = synthLedger();
  primary = synth.primary;
  secondary = synth.secondary;
}, SYNTH_TIMEOUT_MS);

afterAll(() => synth?.cleanup());

describe('stacks', () => {
  it('writes one template per regional stack and the replica key stack, in their regions', () => {
    const { ledger, outdir } = synth;
    expect([ledger.primary.stackName, ledger.secondary.stackName, ledger.replicaKey.stackName]).toEqual([
      'LedgerStack-us-east-2',
      'LedgerStack-ca-central-1',
      'LedgerReplicaKey-ca-central-1',
    ]);
    expect([ledger.primary.region, ledger.secondary.region, ledger.replicaKey.region]).toEqual([
      'us-east-2',
      'ca-central-1',
      'ca-central-1',
    ]);
    for (const name of ['LedgerStack-us-east-2', 'LedgerStack-ca-central-1']) {
      expect(fs.existsSync(path.join(outdir, `${name}.template.json`))).toBe(true);
    }
  });

  it('deploys the replica key, then the primary stack, then the secondary stack', () => {
    const { ledger } = synth;
    expect(ledger.primary.dependencies).toContain(ledger.replicaKey);
    expect(ledger.secondary.dependencies).toContain(ledger.primary);
  });
});

describe('ledger table', () => {
  it('mirrors the local table definition (keys, pending index, stream)', () => {
    const local = ledgerTableDefinition('edge-ledger');
    primary.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'edge-ledger',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: local.KeySchema,
      AttributeDefinitions: Match.arrayWith(local.AttributeDefinitions ?? []),
      GlobalSecondaryIndexes: local.GlobalSecondaryIndexes,
      StreamSpecification: { StreamViewType: local.StreamSpecification?.StreamViewType },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('is encrypted with a customer-managed key in each region (the replica by its key alias)', () => {
    primary.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'ca-central-1',
          SSESpecification: {
            KMSMasterKeyId: `arn:aws:kms:ca-central-1:${TEST_ACCOUNT}:alias/edge-ledger/table`,
          },
        }),
        Match.objectLike({
          Region: 'us-east-2',
          SSESpecification: {
            KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TableKey'), 'Arn'] },
          },
        }),
      ]),
    });
    synth.replicaKey.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/edge-ledger/table' });
  });

  it('has point-in-time recovery on every replica', () => {
    const table = Object.values(resourcesOf(primary, 'AWS::DynamoDB::GlobalTable'))[0];
    const replicas = table?.Properties?.Replicas as Record<string, unknown>[];
    expect(replicas).toHaveLength(2);
    for (const replica of replicas) {
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  it('has deletion protection on every replica and is retained if its stack is deleted', () => {
    primary.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Replicas: [
          Match.objectLike({ DeletionProtectionEnabled: true }),
          Match.objectLike({ DeletionProtectionEnabled: true }),
        ],
      }),
    });
  });

  it('exists once: the secondary stack uses the replica by name, with the replica key stack key', () => {
    secondary.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    secondary.resourceCountIs('AWS::DynamoDB::Table', 0);
    const consumer = roleStatements(secondary, 'ConsumerRole');
    const tableArn = `arn:aws:dynamodb:ca-central-1:${TEST_ACCOUNT}:table/edge-ledger`;
    expect(statementsAllowing(consumer, ['dynamodb:PutItem'])[0]?.Resource).toEqual(tableArn);
    const keyStatement = consumer.find((s) => s.Sid === 'LedgerTableKeyViaDynamoDB');
    expect(JSON.stringify(keyStatement?.Resource)).toContain('LedgerReplicaKey-ca-central-1');
  });
});

describe('encryption at rest', () => {
  it('encrypts the stream with its own customer-managed key, on demand', () => {
    for (const t of regional()) {
      t.hasResourceProperties('AWS::Kinesis::Stream', {
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        StreamEncryption: {
          EncryptionType: 'KMS',
          KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TransfersKey'), 'Arn'] },
        },
        RetentionPeriodHours: 168,
      });
    }
  });

  it('rotates every customer-managed key', () => {
    for (const t of [...regional(), synth.replicaKey]) {
      const keys = Object.values(resourcesOf(t, 'AWS::KMS::Key'));
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(key.Properties?.EnableKeyRotation).toBe(true);
    }
  });

  it('encrypts both consumer queues with a customer-managed key and accepts only TLS', () => {
    for (const t of regional()) {
      const queues = Object.values(resourcesOf(t, 'AWS::SQS::Queue'));
      expect(queues).toHaveLength(2);
      for (const queue of queues) {
        expect(queue.Properties?.KmsMasterKeyId).toEqual({
          'Fn::GetAtt': [expect.stringMatching(/^ConsumerQueueKey/), 'Arn'],
        });
      }
      t.resourcePropertiesCountIs(
        'AWS::SQS::QueuePolicy',
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        },
        2,
      );
    }
  });

  it('encrypts every log group with the observability key and keeps logs at least a year', () => {
    for (const t of regional()) {
      const groups = Object.values(resourcesOf(t, 'AWS::Logs::LogGroup'));
      expect(groups).toHaveLength(5); // ingest, consumer, reconciler, auditor, API access logs
      for (const group of groups) {
        expect(group.Properties?.KmsKeyId).toEqual({
          'Fn::GetAtt': [expect.stringMatching(/^ObservabilityKey/), 'Arn'],
        });
        expect(group.Properties?.RetentionInDays).toBeGreaterThanOrEqual(365);
      }
    }
  });

  it('lets CloudWatch Logs use the observability key only for this account and region', () => {
    primary.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'logs.us-east-2.amazonaws.com' },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:us-east-2:${TEST_ACCOUNT}:log-group:*`,
              },
            },
          }),
        ]),
      },
    });
  });

  it('encrypts the alarm topic with a customer-managed key', () => {
    for (const t of regional()) {
      t.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ObservabilityKey'), 'Arn'] },
      });
    }
  });
});

describe('ledger consumer event source', () => {
  it('sets every option explicitly: start, batch, window, bisect, partial failures, retries, age, parallelism', () => {
    for (const t of regional()) {
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        ParallelizationFactor: 4,
        Enabled: true,
        MetricsConfig: { Metrics: ['EventCount'] },
      });
    }
  });

  it('bisects a failing batch', () => {
    primary.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BisectBatchOnFunctionError: true });
  });

  it('uses ReportBatchItemFailures', () => {
    primary.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('bounds retries and record age (age inside the stream retention, so failed records can be redriven)', () => {
    primary.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
    });
    expect(CONSUMER_EVENT_SOURCE.maxRecordAge.toHours()).toBeLessThan(168);
  });

  it('sends exhausted batches to an on-failure queue that has its own DLQ', () => {
    for (const t of regional()) {
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsumerFailureQueue'), 'Arn'] },
          },
        },
      });
      t.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsumerFailureDlq'), 'Arn'] },
          maxReceiveCount: 5,
        },
        MessageRetentionPeriod: 1_209_600,
      });
    }
  });
});

describe('functions', () => {
  it('run on arm64 with the newest Node.js runtime and X-Ray active tracing', () => {
    for (const t of regional()) {
      const functions = Object.entries(resourcesOf(t, 'AWS::Lambda::Function')).filter(([id]) =>
        /^(Ingest|Consumer|Reconciler)Function/.test(id),
      );
      expect(functions).toHaveLength(3);
      for (const [, fn] of functions) {
        expect(fn.Properties?.Architectures).toEqual(['arm64']);
        expect(fn.Properties?.Runtime).toBe('nodejs24.x');
        expect(fn.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      }
    }
  });

  it('log JSON to their own log group and get the Powertools and ledger settings', () => {
    secondary.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: Match.objectLike({
        LogFormat: 'JSON',
        LogGroup: { Ref: Match.stringLikeRegexp('^ConsumerLogs') },
      }),
      Environment: {
        Variables: Match.objectLike({
          LEDGER_TABLE_NAME: 'edge-ledger',
          TRANSFER_STREAM_NAME: { Ref: Match.stringLikeRegexp('^TransfersStream') },
          LEDGER_REGION: 'ca-central-1',
          POWERTOOLS_SERVICE_NAME: 'ledger-consumer',
          POWERTOOLS_METRICS_NAMESPACE: 'EdgeLedger',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        }),
      },
    });
  });

  it('run the reconciler every minute, without retries that could overlap the next run', () => {
    primary.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });
});

describe('HTTP API', () => {
  it('has an authorizer on every route but GET /health', () => {
    for (const t of regional()) {
      const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route')).map((r) => ({
        key: r.Properties?.RouteKey,
        auth: r.Properties?.AuthorizationType,
      }));
      expect(routes).toEqual(
        expect.arrayContaining([
          { key: 'GET /health', auth: 'NONE' },
          { key: 'ANY /v1/{proxy+}', auth: 'AWS_IAM' },
          { key: 'GET /openapi.json', auth: 'AWS_IAM' },
        ]),
      );
      expect(routes.filter((r) => r.auth === 'NONE')).toEqual([{ key: 'GET /health', auth: 'NONE' }]);
    }
  });

  it('throttles the stage, and the public health route harder', () => {
    primary.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 }),
      RouteSettings: {
        'GET /health': Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }),
      },
    });
  });

  it('writes access logs to the KMS-encrypted access log group', () => {
    primary.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
    primary.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue() });
  });

  it('keeps the default execute-api endpoint when there is no custom domain', () => {
    primary.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    primary.hasOutput('ApiUrl', {});
  });
});

describe('alarms', () => {
  const alarmOn = (t: Template, metricName: string) =>
    Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a.Properties).includes(`"MetricName":"${metricName}"`),
    );

  it('watch iterator age, queue depths, consumer errors and throttles, API 5xx and rejected transfers', () => {
    for (const t of regional()) {
      expect(alarmOn(t, 'IteratorAge')).toHaveLength(1);
      expect(alarmOn(t, 'ApproximateNumberOfMessagesVisible')).toHaveLength(2);
      expect(alarmOn(t, 'Errors')).toHaveLength(3); // consumer, reconciler, auditor
      expect(alarmOn(t, 'Throttles')).toHaveLength(1);
      expect(alarmOn(t, '5xx')).toHaveLength(1);
      expect(alarmOn(t, 'TransfersRejected')).toHaveLength(1);
    }
  });

  it('reads the rejected-transfer metric from the context namespace, as the consumer emits it', () => {
    primary.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'EdgeLedger',
              MetricName: 'TransfersRejected',
              Dimensions: [{ Name: 'service', Value: 'ledger-consumer' }],
            },
          }),
        }),
      ]),
    });
  });

  it('notify the KMS-encrypted alarm topic, on alarm and on recovery', () => {
    for (const t of regional()) {
      const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(10); // 8 + the auditor's two (test/infra/auditor.test.ts)
      for (const alarm of alarms) {
        expect(alarm.Properties?.AlarmActions).toEqual([
          { Ref: expect.stringMatching(/^MonitoringAlarmTopic/) },
        ]);
        expect(alarm.Properties?.OKActions).toEqual([
          { Ref: expect.stringMatching(/^MonitoringAlarmTopic/) },
        ]);
      }
      t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    }
  });
});

describe('least privilege', () => {
  const writesTable = (s: PolicyStatementJson) => statementsAllowing([s], DYNAMODB_WRITES).length > 0;
  /** In the primary stack, own-region resources are references; the other region's are named ARNs. */
  const ownRegion = (s: PolicyStatementJson) => !JSON.stringify(s.Resource).includes(':ca-central-1:');

  it('ingest writes only transfer items (XFER#*), never accounts', () => {
    for (const t of regional()) {
      const writes = roleStatements(t, 'IngestRole').filter(writesTable);
      expect(writes.length).toBeGreaterThan(0);
      for (const s of writes) {
        // Own region: PutItem and UpdateItem; the other region's replica: PutItem (test/infra/cross-region.test.ts).
        expect(['dynamodb:PutItem', 'dynamodb:UpdateItem']).toEqual(expect.arrayContaining(actionsOf(s)));
        expect(s.Condition).toEqual(TRANSFER_ONLY);
      }
    }
  });

  it('ingest reads the table and publishes to the stream, but reads no stream', () => {
    const statements = roleStatements(primary, 'IngestRole').filter(ownRegion);
    expect(statementsAllowing(statements, ['dynamodb:GetItem', 'dynamodb:Query'])).toHaveLength(1);
    const publish = statementsAllowing(statements, STREAM_WRITES);
    expect(publish.flatMap(actionsOf).sort()).toEqual(STREAM_WRITES);
    expect(publish[0]?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^TransfersStream/), 'Arn'],
    });
    expect(
      statementsAllowing(roleStatements(primary, 'IngestRole'), [
        'kinesis:GetRecords',
        'kinesis:GetShardIterator',
      ]),
    ).toEqual([]);
  });

  it('the consumer reads and writes the table, reads the stream, and puts records only with PutRecords', () => {
    for (const [t, otherRegion] of [
      [primary, 'ca-central-1'],
      [secondary, 'us-east-2'],
    ] as const) {
      const statements = roleStatements(t, 'ConsumerRole');
      const table = statementsAllowing(statements, ['dynamodb:PutItem'])[0];
      expect(table?.Condition).toBeUndefined();
      expect(actionsOf(table as PolicyStatementJson)).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']),
      );
      expect(statementsAllowing(statements, ['kinesis:GetRecords'])).toHaveLength(1);
      // Forwards, credit legs and results: PutRecords on the two streams (test/infra/cross-region.test.ts).
      const writes = statementsAllowing(statements, STREAM_WRITES);
      expect(writes.flatMap((s) => actionsOf(s))).toEqual(['kinesis:PutRecords', 'kinesis:PutRecords']);
      expect(JSON.stringify(writes.map((s) => s.Resource))).toContain(
        `arn:aws:kinesis:${otherRegion}:${TEST_ACCOUNT}:stream/edge-ledger-transfers`,
      );
      expect(statementsAllowing(statements, ['dynamodb:DeleteItem', 'dynamodb:Scan'])).toEqual([]);
    }
  });

  it('the reconciler queries only the pending index, gets items, and uses PutRecords only', () => {
    const statements = roleStatements(primary, 'ReconcilerRole');
    const query = statementsAllowing(statements, ['dynamodb:Query']);
    expect(query).toHaveLength(1);
    expect(JSON.stringify(query[0]?.Resource)).toMatch(/\/index\/pending"\]\]\}$/);
    expect(statementsAllowing(statements, ['dynamodb:GetItem'])).toHaveLength(1);
    // Its own stream and the other region's (test/infra/cross-region.test.ts): PutRecords on each.
    expect(new Set(statementsAllowing(statements, STREAM_WRITES).flatMap(actionsOf))).toEqual(
      new Set(['kinesis:PutRecords']),
    );
    for (const s of statements.filter(writesTable)) expect(s.Condition).toEqual(TRANSFER_ONLY);
    expect(statementsAllowing(statements, ['dynamodb:PutItem'])).toEqual([]);
  });

  it('grants Resource * only for the X-Ray actions that have no resource-level permissions', () => {
    for (const t of regional()) {
      for (const prefix of ['IngestRole', 'ConsumerRole', 'ReconcilerRole']) {
        const wildcard = roleStatements(t, prefix).filter((s) => JSON.stringify(s.Resource) === '"*"');
        expect(wildcard.flatMap(actionsOf).sort()).toEqual([
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ]);
      }
    }
  });

  it('uses the table key only through DynamoDB in the same region', () => {
    const key = roleStatements(secondary, 'IngestRole').find((s) => s.Sid === 'LedgerTableKeyViaDynamoDB');
    expect(key?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'dynamodb.ca-central-1.amazonaws.com' },
    });
  });
});

describe('cdk-nag (AwsSolutions, PCI DSS 3.2.1)', () => {
  it('leaves no unacknowledged finding in the validation report', () => {
    const violations = synth.validationReport.pluginReports.flatMap((r) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  it('records every acknowledgement in the template with a one-line reason', () => {
    const acknowledged = [primary, secondary].flatMap((t) =>
      Object.values(t.toJSON().Resources as Record<string, { Metadata?: Record<string, unknown> }>).flatMap(
        (r) =>
          (r.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] } | undefined)
            ?.rules_to_suppress ?? [],
      ),
    );
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { reason } of acknowledged) {
      expect(reason).toMatch(/^[^\n]{20,160}$/);
    }
  });
});
