import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { EncryptionKey } from './encryption-key.js';

/**
 * Days a record stays readable. Longer than the consumer's maximum record age (1 day) so a record that
 * went to the on-failure queue can still be read back and redriven for at least 6 days afterwards.
 */
export const STREAM_RETENTION_DAYS = 7;

export interface TransferStreamProps {
  /**
   * Physical stream name, the same in every region (`LedgerNames.streamName`), so another region's
   * functions can name this stream in their grants and in LEDGER_REGIONS.
   */
  readonly streamName: string;
  /** Alias of the stream key without `alias/` (`LedgerNames.streamKeyAlias`): other regions find it by it. */
  readonly keyAlias: string;
}

/**
 * The regional Kinesis stream of ledger commands: on-demand (no shard planning; it scales with the
 * write rate) and encrypted with its own customer-managed key. Both have fixed names (the stream) and
 * aliases (the key), so the other region's functions can be granted on them without a reference.
 */
export class TransferStream extends Construct {
  public readonly stream: kinesis.Stream;
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: TransferStreamProps) {
    super(scope, id);
    this.key = new EncryptionKey(this, 'Key', {
      alias: props.keyAlias,
      description: 'Encrypts the ledger command stream',
    }).key;
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: props.streamName,
      streamMode: kinesis.StreamMode.ON_DEMAND,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      retentionPeriod: Duration.days(STREAM_RETENTION_DAYS),
      // Records not yet applied are the only copy of a command's order; keep them if the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.stream,
      ['AwsSolutions-KDS3'],
      'A customer-managed key (own key policy, rotation) is required here instead of the aws/kinesis key.',
    );
  }

  /**
   * Writes to this stream only (PutRecords, and PutRecord unless `batchOnly`), with the key use a producer
   * needs; nothing to read.
   */
  grantPublish(grantee: iam.IGrantable, options: { readonly batchOnly?: boolean } = {}): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PublishLedgerCommands',
        actions:
          options.batchOnly === true ? ['kinesis:PutRecords'] : ['kinesis:PutRecord', 'kinesis:PutRecords'],
        resources: [this.stream.streamArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptLedgerCommands',
        actions: ['kms:GenerateDataKey'],
        resources: [this.key.keyArn],
      }),
    );
  }
}
