import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { acknowledge } from '../nag.js';
import { type LedgerNames, regionSidSuffix } from '../names.js';
import { ACCOUNT_KEY_PATTERN, TABLE_KEY_ACTIONS, TRANSFER_KEY_PATTERN } from './ledger-table.js';

export interface PeerRegionProps {
  /** The other region. */
  readonly region: string;
  /** The deployment's names, the same in every region. */
  readonly names: LedgerNames;
}

/**
 * Another region's ledger as seen from this stack: its table replica, command stream, consumer and
 * reconciler rule, named from config instead of referenced. The two regional stacks grant on each other's
 * resources, so references would cross regions and make each stack depend on the other.
 *
 * Its KMS keys cannot be named at synth either (a key ARN holds a random key id), so key statements name
 * `key/*` in that region and narrow it with `kms:ResourceAliases` (the ledger's deterministic aliases) and
 * with the service and resource the key is used for. Table grants are item actions bound to key prefixes
 * (`dynamodb:LeadingKeys`); stream grants are PutRecords only.
 *
 * @example
 * const peer = new PeerRegion(this, 'Peer-ca-central-1', { region: 'ca-central-1', names: config.names });
 * peer.grantPublish(reconcilerFunction);
 */
export class PeerRegion extends Construct {
  public readonly region: string;
  public readonly tableArn: string;
  public readonly streamArn: string;
  /** The consumer function there (the condition on its event source mapping). */
  public readonly consumerFunctionArn: string;
  /** Every event source mapping there (ids are generated); updates are narrowed by `lambda:FunctionArn`. */
  public readonly eventSourceMappingArns: string;
  public readonly reconcilerRuleArn: string;
  /** Any KMS key there: statements on it always carry a `kms:ResourceAliases` condition. */
  public readonly keyArns: string;
  private readonly names: LedgerNames;
  private readonly sidSuffix: string;

  constructor(scope: Construct, id: string, props: PeerRegionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.region === stack.region) throw new Error(`${props.region} is this stack's own region`);
    this.region = props.region;
    this.names = props.names;
    this.sidSuffix = regionSidSuffix(props.region);
    const arn = (service: string, resource: string, resourceName: string, colon = false) =>
      Arn.format(
        {
          service,
          region: props.region,
          account: stack.account,
          resource,
          resourceName,
          ...(colon ? { arnFormat: ArnFormat.COLON_RESOURCE_NAME } : {}),
        },
        stack,
      );
    this.tableArn = arn('dynamodb', 'table', props.names.tableName);
    this.streamArn = arn('kinesis', 'stream', props.names.streamName);
    this.consumerFunctionArn = arn('lambda', 'function', props.names.consumerFunctionName, true);
    this.eventSourceMappingArns = arn('lambda', 'event-source-mapping', '*', true);
    this.reconcilerRuleArn = arn('events', 'rule', props.names.reconcilerRuleName);
    this.keyArns = arn('kms', 'key', '*');
  }

  /**
   * Producer of commands on that region's stream: PutRecords only (all KinesisCommandQueue calls), and
   * GenerateDataKey on the stream key there, for that stream only (Kinesis' encryption context).
   */
  grantPublish(grantee: iam.IGrantable): void {
    this.addTo(
      grantee,
      new iam.PolicyStatement({
        sid: `PublishLedgerCommandsTo${this.sidSuffix}`,
        actions: ['kinesis:PutRecords'],
        resources: [this.streamArn],
      }),
    );
    this.addTo(grantee, this.streamKeyStatement());
  }

  /**
   * Ingest routing a transfer to the debit account's home region: records the transfer ACCEPTED there
   * (PutItem on `XFER#…` items only) and reads accounts and transfers there (GetItem on `ACCT#…`/`XFER#…`).
   */
  grantIngestAccess(grantee: iam.IGrantable): void {
    this.addTo(
      grantee,
      leadingKeysStatement(`RecordTransfersIn${this.sidSuffix}`, ['dynamodb:PutItem'], this.tableArn, [
        TRANSFER_KEY_PATTERN,
      ]),
    );
    this.addTo(
      grantee,
      leadingKeysStatement(
        `ReadAccountsAndTransfersIn${this.sidSuffix}`,
        ['dynamodb:GetItem'],
        this.tableArn,
        [ACCOUNT_KEY_PATTERN, TRANSFER_KEY_PATTERN],
      ),
    );
    this.addTo(grantee, this.tableKeyStatement());
  }

  /**
   * Consumer forwarding a command to that region: makes sure the transfer's record exists there first
   * (PutItem and GetItem on `XFER#…` items only); never an account there.
   */
  grantForwarderAccess(grantee: iam.IGrantable): void {
    this.addTo(
      grantee,
      leadingKeysStatement(
        `EnsureTransfersIn${this.sidSuffix}`,
        ['dynamodb:GetItem', 'dynamodb:PutItem'],
        this.tableArn,
        [TRANSFER_KEY_PATTERN],
      ),
    );
    this.addTo(grantee, this.tableKeyStatement());
  }

  /**
   * Use of that region's table key through DynamoDB there only (`kms:ViaService`), with the actions of
   * the local grant, on the key aliased `alias/<tableName>/table`.
   */
  tableKeyStatement(sid = `LedgerTableKeyViaDynamoDBIn${this.sidSuffix}`): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: [...TABLE_KEY_ACTIONS],
      resources: [this.keyArns],
      conditions: {
        StringEquals: { 'kms:ViaService': `dynamodb.${this.region}.amazonaws.com` },
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': `alias/${this.names.tableKeyAlias}` },
      },
    });
  }

  /** The finding that a `key/*` statement in this region raises, acknowledged where it is granted. */
  acknowledgeKeyWildcard(scope: IConstruct): void {
    acknowledge(
      scope,
      [`AwsSolutions-IAM5[Resource::${this.keyArns}]`],
      "Another region's key ids are unknown at synth: key/* there, narrowed to the ledger's aliases by kms:ResourceAliases.",
    );
  }

  private streamKeyStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: `EncryptLedgerCommandsFor${this.sidSuffix}`,
      actions: ['kms:GenerateDataKey'],
      resources: [this.keyArns],
      conditions: {
        StringEquals: { 'kms:EncryptionContext:aws:kinesis:arn': this.streamArn },
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': `alias/${this.names.streamKeyAlias}` },
      },
    });
  }

  private addTo(grantee: iam.IGrantable, statement: iam.PolicyStatement): void {
    grantee.grantPrincipal.addToPrincipalPolicy(statement);
    if (statement.resources.includes(this.keyArns) && Construct.isConstruct(grantee.grantPrincipal)) {
      this.acknowledgeKeyWildcard(grantee.grantPrincipal);
    }
  }
}

function leadingKeysStatement(
  sid: string,
  actions: string[],
  tableArn: string,
  leadingKeys: string[],
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions,
    resources: [tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
  });
}
