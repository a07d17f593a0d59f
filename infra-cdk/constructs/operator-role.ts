import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import type { LedgerConsumer } from './ledger-consumer.js';
import {
  ACCOUNT_KEY_PATTERN,
  type LedgerTable,
  REGION_KEY_PATTERN,
  TRANSFER_KEY_PATTERN,
} from './ledger-table.js';
import type { PeerRegion } from './peer-region.js';
import type { Reconciler } from './reconciler.js';

/** Longest session of the role, and how recent the operator's MFA sign-in must be to assume it. */
export const OPERATOR_SESSION_DURATION = Duration.hours(1);

export interface LedgerOperatorRoleProps {
  /** This stack's region: its table, consumer and reconciler are named by their ARNs. */
  readonly ledger: LedgerTable;
  readonly consumer: LedgerConsumer;
  readonly reconciler: Reconciler;
  /** Every other region of the deployment, named from config. */
  readonly peers: readonly PeerRegion[];
}

/**
 * The role `npm run ops -- failover|failback` runs as: it re-homes the accounts of a failed region and
 * stops (or restarts) that region's consumer and reconciler, in any region of the deployment.
 *
 * Who: principals of this account only, signed in with MFA in the last hour, for sessions of at most an
 * hour. What: reads of the table (Scan, Query, GetItem; TransactGetItems is authorized as GetItem), writes
 * of accounts, journal pages and `REGION#…` control items only (PutItem, UpdateItem, ConditionCheckItem;
 * TransactWriteItems is authorized item by item as these), the table key through DynamoDB, and the
 * switches: the consumer's event source mapping and the reconciler's rule. No delete, no stream, no
 * function code or configuration. Its permissions are a customer managed policy (reviewable on its own).
 */
export class LedgerOperatorRole extends Construct {
  public readonly role: iam.Role;
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LedgerOperatorRoleProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    this.role = new iam.Role(this, 'Role', {
      description: 'Edge ledger operator: regional failover and failback (npm run ops)',
      assumedBy: new iam.AccountPrincipal(account).withConditions({
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
        NumericLessThan: { 'aws:MultiFactorAuthAge': String(OPERATOR_SESSION_DURATION.toSeconds()) },
      }),
      maxSessionDuration: OPERATOR_SESSION_DURATION,
    });
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Edge ledger failover: re-home accounts, switch a region consumer and reconciler',
      roles: [this.role],
      statements: operatorStatements(props),
    });
    acknowledge(
      this.policy,
      props.peers.map((peer) => `AwsSolutions-IAM5[Resource::${peer.eventSourceMappingArns}]`),
      'Mapping ids of another region are generated: event-source-mapping:* there; updates need its consumer (lambda:FunctionArn).',
    );
    acknowledge(
      this.policy,
      ['AwsSolutions-IAM5[Resource::*]'],
      'Only lambda:ListEventSourceMappings uses Resource * (Lambda has no resource-level permission for it).',
    );
    for (const peer of props.peers) peer.acknowledgeKeyWildcard(this.policy);
  }
}

function operatorStatements(props: LedgerOperatorRoleProps): iam.PolicyStatement[] {
  const { ledger, consumer, reconciler, peers } = props;
  const tables = [ledger.table.tableArn, ...peers.map((p) => p.tableArn)];
  const mappings = [
    consumer.eventSource.eventSourceMappingArn,
    ...peers.map((p) => p.eventSourceMappingArns),
  ];
  return [
    new iam.PolicyStatement({
      sid: 'ReadLedger',
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
      resources: tables,
    }),
    new iam.PolicyStatement({
      sid: 'RehomeAccounts',
      actions: ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resources: tables,
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ACCOUNT_KEY_PATTERN, REGION_KEY_PATTERN] },
      },
    }),
    // The failover re-stamps open transfers in the surviving replica (UpdateItem of the `written`
    // stamp, conditioned on the status), so its copy outlives a late write of the failed region;
    // `reapply` puts a transfer a void write had applied back to ACCEPTED (PutItem, on its revision).
    new iam.PolicyStatement({
      sid: 'RestampOpenTransfers',
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resources: tables,
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TRANSFER_KEY_PATTERN] } },
    }),
    ledger.keyViaDynamoDBStatement(),
    ...peers.map((peer) => peer.tableKeyStatement()),
    new iam.PolicyStatement({
      sid: 'SwitchConsumers',
      actions: ['lambda:UpdateEventSourceMapping'],
      resources: mappings,
      conditions: {
        ArnEquals: {
          'lambda:FunctionArn': [
            consumer.handler.function.functionArn,
            ...peers.map((p) => p.consumerFunctionArn),
          ],
        },
      },
    }),
    // Read-only, so no lambda:FunctionArn condition: Lambda documents that key for update and delete only.
    new iam.PolicyStatement({
      sid: 'ReadConsumerMappings',
      actions: ['lambda:GetEventSourceMapping'],
      resources: mappings,
    }),
    new iam.PolicyStatement({
      sid: 'FindConsumerMappings',
      actions: ['lambda:ListEventSourceMappings'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'SwitchReconcilers',
      actions: ['events:DescribeRule', 'events:DisableRule', 'events:EnableRule'],
      resources: [reconciler.schedule.ruleArn, ...peers.map((p) => p.reconcilerRuleArn)],
    }),
  ];
}
