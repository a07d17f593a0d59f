import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionsOf,
  type PolicyStatementJson,
  resourcesOf,
  resourcesOfStatement,
  roleStatements,
  SYNTH_TIMEOUT_MS,
  type SynthesizedLedger,
  statementsAllowing,
  synthLedger,
  TEST_ACCOUNT,
} from './synth.js';

/**
 * The two-region write model's infrastructure: LEDGER_REGIONS on the functions, each function's grants on
 * the other region's replica, stream and keys (named from config, never referenced), and the failover
 * operator role. test/infra/ledger-stacks.test.ts covers each region's own resources.
 */
const TABLE = 'edge-ledger';
const STREAM = 'edge-ledger-transfers';
const TRANSFER_ONLY = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['XFER#*'] } };
const DYNAMODB_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

let synth: SynthesizedLedger;

interface RegionalStack {
  readonly template: Template;
  readonly region: string;
  readonly other: string;
}
const stacks = (): RegionalStack[] => [
  { template: synth.primary, region: 'us-east-2', other: 'ca-central-1' },
  { template: synth.secondary, region: 'ca-central-1', other: 'us-east-2' },
];
const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${TEST_ACCOUNT}:${resource}`;
const streamArn = (region: string) => arn('kinesis', region, `stream/${STREAM}`);
const tableArn = (region: string) => arn('dynamodb', region, `table/${TABLE}`);
/** Statements whose resources include the other region's ARN of this service (by its region). */
const onOtherRegion = (statements: PolicyStatementJson[], service: string, other: string) =>
  statements.filter((s) =>
    resourcesOfStatement(s).some(
      (r) => typeof r === 'string' && r.startsWith(`arn:aws:${service}:${other}:`),
    ),
  );
/** `{ "Fn::GetAtt": [<id>, "Arn"] }` of the only resource of this type in the template. */
function arnOfOnly(template: Template, type: string): unknown {
  const ids = Object.keys(resourcesOf(template, type));
  expect(ids).toHaveLength(1);
  return { 'Fn::GetAtt': [ids[0], 'Arn'] };
}
function functionEnv(template: Template, logicalIdPrefix: string): Record<string, unknown> {
  const fns = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith(logicalIdPrefix),
  );
  expect(fns).toHaveLength(1);
  const env = fns[0]?.[1].Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
  return env?.Variables ?? {};
}
const operatorStatements = () => roleStatements(synth.primary, 'LedgerOperatorRole');

beforeAll(() => {
  synth = synthLedger();
}, SYNTH_TIMEOUT_MS);
afterAll(() => synth?.cleanup());

describe('LEDGER_REGIONS', () => {
  it('lists both regions with the table and stream names, on ingest, consumer and reconciler', () => {
    const expected = {
      'us-east-2': { tableName: TABLE, streamName: STREAM },
      'ca-central-1': { tableName: TABLE, streamName: STREAM },
    };
    for (const { template } of stacks()) {
      for (const fn of ['IngestFunction', 'ConsumerFunction', 'ReconcilerFunction']) {
        const value = functionEnv(template, fn).LEDGER_REGIONS;
        expect(typeof value).toBe('string');
        expect(JSON.parse(value as string)).toEqual(expected);
      }
    }
  });

  it('names the stream each regional stack creates', () => {
    for (const { template, region } of stacks()) {
      const regions = JSON.parse(functionEnv(template, 'IngestFunction').LEDGER_REGIONS as string) as Record<
        string,
        { streamName: string }
      >;
      const streams = Object.values(resourcesOf(template, 'AWS::Kinesis::Stream'));
      expect(streams.map((s) => s.Properties?.Name)).toEqual([regions[region]?.streamName]);
    }
  });
});

describe('ingest across regions', () => {
  it('may PutRecords on both regions’ streams', () => {
    for (const { template, other } of stacks()) {
      const publish = statementsAllowing(roleStatements(template, 'IngestRole'), ['kinesis:PutRecords']);
      expect(publish.flatMap(resourcesOfStatement)).toEqual([
        arnOfOnly(template, 'AWS::Kinesis::Stream'),
        streamArn(other),
      ]);
    }
  });

  it('writes only XFER# items in the other region’s replica, with PutItem only', () => {
    for (const { template, other } of stacks()) {
      const writes = statementsAllowing(roleStatements(template, 'IngestRole'), DYNAMODB_WRITES);
      const remote = onOtherRegion(writes, 'dynamodb', other);
      expect(remote).toHaveLength(1);
      expect(remote[0]?.Resource).toEqual(tableArn(other));
      expect(actionsOf(remote[0] as PolicyStatementJson)).toEqual(['dynamodb:PutItem']);
      expect(remote[0]?.Condition).toEqual(TRANSFER_ONLY);
    }
  });

  it('reads only account and transfer items in the other region’s replica, with GetItem only', () => {
    for (const { template, other } of stacks()) {
      const statements = roleStatements(template, 'IngestRole');
      const reads = onOtherRegion(
        statementsAllowing(statements, ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']),
        'dynamodb',
        other,
      );
      expect(reads).toHaveLength(1);
      expect(actionsOf(reads[0] as PolicyStatementJson)).toEqual(['dynamodb:GetItem']);
      expect(reads[0]?.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCT#*', 'XFER#*'] },
      });
    }
  });
});

describe('consumer across regions', () => {
  it('may PutRecords (only) on its own stream and on the other region’s', () => {
    for (const { template, other } of stacks()) {
      const publish = statementsAllowing(roleStatements(template, 'ConsumerRole'), [
        'kinesis:PutRecord',
        'kinesis:PutRecords',
      ]);
      expect(publish.flatMap(resourcesOfStatement)).toEqual([
        arnOfOnly(template, 'AWS::Kinesis::Stream'),
        streamArn(other),
      ]);
      expect(publish.flatMap(actionsOf)).toEqual(['kinesis:PutRecords', 'kinesis:PutRecords']);
    }
  });

  it('may only put and get XFER# items in the other region’s replica', () => {
    for (const { template, other } of stacks()) {
      const remote = onOtherRegion(roleStatements(template, 'ConsumerRole'), 'dynamodb', other);
      expect(remote).toHaveLength(1);
      expect(actionsOf(remote[0] as PolicyStatementJson)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
      expect(remote[0]?.Condition).toEqual(TRANSFER_ONLY);
    }
  });
});

describe('reconciler across regions', () => {
  it('may PutRecords on its own stream and on the other region’s, and read nothing there', () => {
    for (const { template, other } of stacks()) {
      const statements = roleStatements(template, 'ReconcilerRole');
      const publish = statementsAllowing(statements, ['kinesis:PutRecords']);
      expect(publish.flatMap(resourcesOfStatement)).toEqual([
        arnOfOnly(template, 'AWS::Kinesis::Stream'),
        streamArn(other),
      ]);
      expect(onOtherRegion(statements, 'dynamodb', other)).toEqual([]);
    }
  });
});

describe('the other region’s keys', () => {
  const keyAliases = ['alias/edge-ledger/stream', 'alias/edge-ledger/table'];

  it('are granted only by alias, through the stream or the table that uses them', () => {
    for (const { template, other } of stacks()) {
      for (const role of ['IngestRole', 'ConsumerRole', 'ReconcilerRole']) {
        const keys = onOtherRegion(roleStatements(template, role), 'kms', other);
        expect(keys.length).toBeGreaterThan(0);
        for (const s of keys) {
          expect(s.Resource).toEqual(arn('kms', other, 'key/*'));
          const alias = s.Condition?.['ForAnyValue:StringEquals']?.['kms:ResourceAliases'];
          expect(keyAliases).toContain(alias);
          const use =
            alias === 'alias/edge-ledger/stream'
              ? { 'kms:EncryptionContext:aws:kinesis:arn': streamArn(other) }
              : { 'kms:ViaService': `dynamodb.${other}.amazonaws.com` };
          expect(s.Condition?.StringEquals).toEqual(use);
        }
      }
    }
  });

  it('carry those aliases in their region', () => {
    const aliases = (t: Template) =>
      Object.values(resourcesOf(t, 'AWS::KMS::Alias')).map((a) => a.Properties?.AliasName);
    expect(aliases(synth.primary)).toEqual(expect.arrayContaining(keyAliases));
    expect([...aliases(synth.secondary), ...aliases(synth.replicaKey)]).toEqual(
      expect.arrayContaining(keyAliases),
    );
  });
});

describe('LedgerOperatorRole', () => {
  it('exists once, in the primary stack, with its ARN as an output', () => {
    const roles = (t: Template) =>
      Object.keys(resourcesOf(t, 'AWS::IAM::Role')).filter((id) => id.startsWith('LedgerOperatorRole'));
    expect(roles(synth.primary)).toHaveLength(1);
    expect(roles(synth.secondary)).toEqual([]);
    synth.primary.hasOutput('OperatorRoleArn', { Value: { 'Fn::GetAtt': [roles(synth.primary)[0], 'Arn'] } });
  });

  it('may be assumed only by principals of this account with recent MFA, for at most an hour', () => {
    synth.primary.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` },
            Condition: {
              Bool: { 'aws:MultiFactorAuthPresent': 'true' },
              NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' },
            },
          },
        ],
        Version: '2012-10-17',
      },
      MaxSessionDuration: 3600,
    });
  });

  it('can UpdateEventSourceMapping of the consumer in both regions, and of no other function', () => {
    const update = statementsAllowing(operatorStatements(), ['lambda:UpdateEventSourceMapping']);
    expect(update).toHaveLength(1);
    const [mappingId] = Object.keys(resourcesOf(synth.primary, 'AWS::Lambda::EventSourceMapping'));
    expect(JSON.stringify(update[0]?.Resource)).toContain(
      `"arn:aws:lambda:us-east-2:${TEST_ACCOUNT}:event-source-mapping:",{"Ref":"${mappingId}"}`,
    );
    expect(resourcesOfStatement(update[0] as PolicyStatementJson)).toContain(
      arn('lambda', 'ca-central-1', 'event-source-mapping:*'),
    );
    expect(update[0]?.Condition?.ArnEquals?.['lambda:FunctionArn']).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^ConsumerFunction/), 'Arn'] },
      arn('lambda', 'ca-central-1', 'function:edge-ledger-consumer'),
    ]);
    synth.secondary.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'edge-ledger-consumer' });
  });

  it('can UpdateItem on the table in both regions: accounts and REGION# items, and re-stamp XFER# items', () => {
    const [update, restamp] = statementsAllowing(operatorStatements(), ['dynamodb:UpdateItem']);
    expect(restamp?.Action).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(restamp?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['XFER#*'] } });
    const tables = resourcesOfStatement(update as PolicyStatementJson);
    expect(tables).toHaveLength(2);
    expect(tables).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [expect.stringMatching(/^LedgerTable/), 'Arn'] },
        tableArn('ca-central-1'),
      ]),
    );
    expect(update?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCT#*', 'REGION#*'] },
    });
  });

  it('can disable and enable the reconciler rule in both regions', () => {
    const rules = statementsAllowing(operatorStatements(), ['events:DisableRule', 'events:EnableRule']);
    expect(rules).toHaveLength(1);
    const ruleArns = resourcesOfStatement(rules[0] as PolicyStatementJson);
    expect(ruleArns).toHaveLength(2);
    expect(ruleArns).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [expect.stringMatching(/^ReconcilerEveryMinute/), 'Arn'] },
        arn('events', 'ca-central-1', 'rule/edge-ledger-reconciler'),
      ]),
    );
    synth.secondary.hasResourceProperties('AWS::Events::Rule', { Name: 'edge-ledger-reconciler' });
  });

  it('uses Resource * only for ListEventSourceMappings, which has no resource-level permission', () => {
    const wildcard = operatorStatements().filter((s) => JSON.stringify(s.Resource) === '"*"');
    expect(wildcard.flatMap(actionsOf)).toEqual(['lambda:ListEventSourceMappings']);
  });

  it('cannot delete items or tables, write a stream, or change a function or a mapping’s existence', () => {
    const forbidden = [
      'dynamodb:DeleteItem',
      'dynamodb:DeleteTable',
      'dynamodb:UpdateTable',
      'kinesis:PutRecords',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:CreateEventSourceMapping',
      'lambda:DeleteEventSourceMapping',
      'events:PutRule',
      'events:DeleteRule',
      'iam:PassRole',
    ];
    expect(statementsAllowing(operatorStatements(), forbidden)).toEqual([]);
    expect(Object.keys(resourcesOf(synth.primary, 'AWS::IAM::ManagedPolicy'))).toHaveLength(1);
  });
});

describe('cdk-nag (AwsSolutions, PCI DSS 3.2.1) with the cross-region grants', () => {
  it('leaves no unacknowledged finding', () => {
    expect(synth.validationReport.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('acknowledges on the operator policy only the wildcards IAM cannot avoid', () => {
    const [policy] = Object.values(resourcesOf(synth.primary, 'AWS::IAM::ManagedPolicy'));
    const ids = (
      policy?.Metadata as { cdk_nag?: { rules_to_suppress: { id: string }[] } } | undefined
    )?.cdk_nag?.rules_to_suppress.map((r) => r.id);
    expect(ids?.sort()).toEqual(
      [
        `AwsSolutions-IAM5[Resource::${arn('lambda', 'ca-central-1', 'event-source-mapping:*')}]`,
        'AwsSolutions-IAM5[Resource::*]',
        `AwsSolutions-IAM5[Resource::${arn('kms', 'ca-central-1', 'key/*')}]`,
      ].sort(),
    );
  });
});
