import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Days a deleted key waits before it is gone: the longest KMS allows, to undo a mistaken delete. */
const KEY_DELETION_WAITING_DAYS = 30;

export interface EncryptionKeyProps {
  /** Alias without the `alias/` prefix, e.g. `edge-ledger/stream`. */
  readonly alias: string;
  readonly description: string;
}

/**
 * A customer-managed KMS key with yearly automatic rotation, retained when its stack is deleted (data
 * encrypted under it may outlive the stack: table backups, retained log groups, queued messages).
 *
 * One key per concern (table, stream, queues, observability) so a key policy or a grant never reaches
 * data of another kind.
 */
export class EncryptionKey extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias,
      description: props.description,
      enableKeyRotation: true,
      pendingWindow: Duration.days(KEY_DELETION_WAITING_DAYS),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Lets CloudWatch Logs encrypt this account's log groups in this region (and nothing else). */
  allowCloudWatchLogs(): void {
    const stack = Stack.of(this);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsInThisAccountAndRegion',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );
  }

  /** Lets CloudWatch alarms publish to SNS topics encrypted with this key. */
  allowCloudWatchAlarms(): void {
    const stack = Stack.of(this);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}
