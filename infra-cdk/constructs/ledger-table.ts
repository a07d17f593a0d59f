import { Arn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LEDGER_KEYS, PENDING_INDEX, TTL_ATTRIBUTE } from '../../shared/adapters/ledger-table.js';
import { ledgerNames } from '../names.js';

/** Key prefix of transfer items: the only items ingest and the reconciler may write. */
export const TRANSFER_KEY_PATTERN = 'XFER#*';
/** Key prefix of an account and its journal pages (`ACCT#<id>` / `ACCT` and `E#<version>`). */
export const ACCOUNT_KEY_PATTERN = 'ACCT#*';
/** Key prefix of the per-region control items (`REGION#<name>`) the failover command writes. */
export const REGION_KEY_PATTERN = 'REGION#*';
/** The table key actions DynamoDB needs from a caller, as the AWS managed DynamoDB key policy lists them. */
export const TABLE_KEY_ACTIONS: readonly string[] = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
];

/** KMS alias of the table key, the same name in every region (the replica key is found by it). */
export function tableKeyAlias(tableName: string): string {
  return ledgerNames(tableName).tableKeyAlias;
}

/** Alias ARN of the table key in a region: DynamoDB accepts an alias ARN for a replica's key. */
export function tableKeyAliasArn(scope: Construct, tableName: string, region: string): string {
  const stack = Stack.of(scope);
  return Arn.format(
    {
      service: 'kms',
      region,
      account: stack.account,
      resource: 'alias',
      resourceName: tableKeyAlias(tableName),
    },
    stack,
  );
}

export type LedgerTableProps =
  | {
      /** Creates the global table (in the primary region's stack). */
      readonly mode: 'primary';
      readonly tableName: string;
      /** The table key in this (the primary) region. */
      readonly key: kms.IKey;
      /** Regions that get a replica; each must already hold a key under `tableKeyAlias(tableName)`. */
      readonly replicaRegions: readonly string[];
    }
  | {
      /** Refers to this region's replica of the global table (in a secondary region's stack). */
      readonly mode: 'replica';
      readonly tableName: string;
      /** The replica's key in this region (from the replica key stack). */
      readonly key: kms.IKey;
    };

/**
 * The ledger's single table, mirroring `shared/adapters/ledger-table.ts` (keys, `pending` index, stream,
 * TTL), as a DynamoDB global table created in the primary region with replicas elsewhere.
 *
 * Write model: a global table resolves concurrent writes to one item by last writer wins, and it does not
 * replicate a transaction atomically (a replica may briefly show one leg of a posting). So an account is
 * written only in its home region (`homeRegion` on the account item, `LEDGER_REGION` in each function), and
 * other regions only read it. A later issue routes each request to its account's home region on this rule.
 *
 * The grant methods are the only way functions get table access, each as narrow as its role needs.
 *
 * @example
 * const ledger = new LedgerTable(this, 'Ledger', { mode: 'replica', tableName: 'edge-ledger', key });
 * ledger.grantIngestAccess(ingestFunction);
 */
export class LedgerTable extends Construct {
  /** The table as seen from this stack's region (the primary table or the local replica). */
  public readonly table: dynamodb.ITableV2;
  public readonly key: kms.IKey;
  public readonly tableName: string;
  /** ARN of the `pending` index in this region. */
  public readonly pendingIndexArn: string;

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    this.tableName = props.tableName;
    this.key = props.key;
    this.table =
      props.mode === 'primary'
        ? createGlobalTable(this, props.tableName, props.key, props.replicaRegions)
        : dynamodb.TableV2.fromTableAttributes(this, 'Replica', {
            tableName: props.tableName,
            encryptionKey: props.key,
            globalIndexes: [PENDING_INDEX.name],
          });
    this.pendingIndexArn = `${this.table.tableArn}/index/${PENDING_INDEX.name}`;
  }

  /**
   * Ingest: reads any item (idempotency checks, balances, statements) but writes only transfer items
   * (`XFER#…`): it can record a transfer as ACCEPTED, never touch an account or a statement entry.
   */
  grantIngestAccess(grantee: iam.IGrantable): void {
    this.addToPolicy(
      grantee,
      'IngestRead',
      ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      [this.table.tableArn],
    );
    this.addTransferOnlyWrite(grantee, 'IngestWriteTransfers', ['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    this.grantKeyViaDynamoDB(grantee);
  }

  /**
   * Consumer: reads and writes every item kind (accounts, entries, transfers, dead letters) with the
   * item-level actions a TransactWriteItems posting is authorized by; no index, Scan, delete or table admin.
   */
  grantConsumerAccess(grantee: iam.IGrantable): void {
    this.addToPolicy(
      grantee,
      'ConsumerReadWrite',
      [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      [this.table.tableArn],
    );
    this.grantKeyViaDynamoDB(grantee);
  }

  /**
   * Reconciler: queries the `pending` index, reads transfers, and marks a transfer re-enqueued (an
   * UpdateItem on `XFER#…` items only, as `DynamoLedgerStore.markReenqueued` does).
   */
  grantReconcilerAccess(grantee: iam.IGrantable): void {
    this.addToPolicy(grantee, 'ReconcilerQueryPending', ['dynamodb:Query'], [this.pendingIndexArn]);
    this.addToPolicy(grantee, 'ReconcilerRead', ['dynamodb:GetItem'], [this.table.tableArn]);
    this.addTransferOnlyWrite(grantee, 'ReconcilerMarkTransfers', ['dynamodb:UpdateItem']);
    this.grantKeyViaDynamoDB(grantee);
  }

  /**
   * Auditor: reads only, whole table (Scan, per-account Query, Get/BatchGet of transfers), the base table
   * alone (no index); the key for decryption only, through DynamoDB. No write of any kind.
   */
  grantAuditorAccess(grantee: iam.IGrantable): void {
    this.addToPolicy(
      grantee,
      'AuditorReadOnly',
      ['dynamodb:Scan', 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      [this.table.tableArn],
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LedgerTableKeyDecryptViaDynamoDB',
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }

  private addToPolicy(grantee: iam.IGrantable, sid: string, actions: string[], resources: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
  }

  private addTransferOnlyWrite(grantee: iam.IGrantable, sid: string, actions: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid,
        actions,
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TRANSFER_KEY_PATTERN] } },
      }),
    );
  }

  /**
   * Key use only through DynamoDB in this region (kms:ViaService), never direct decryption; the actions
   * are those of the AWS managed DynamoDB key policy, without wildcards or grant creation. As a statement,
   * for a policy that is not a principal's own (the operator role's managed policy).
   */
  keyViaDynamoDBStatement(sid = 'LedgerTableKeyViaDynamoDB'): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: [...TABLE_KEY_ACTIONS],
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
  }

  private grantKeyViaDynamoDB(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(this.keyViaDynamoDBStatement());
  }
}

function createGlobalTable(
  scope: Construct,
  tableName: string,
  key: kms.IKey,
  replicaRegions: readonly string[],
): dynamodb.ITableV2 {
  const replicaKeyArns = Object.fromEntries(
    replicaRegions.map((region) => [region, tableKeyAliasArn(scope, tableName, region)]),
  );
  const table = new dynamodb.TableV2(scope, 'Table', {
    tableName,
    partitionKey: { name: LEDGER_KEYS.partition, type: dynamodb.AttributeType.STRING },
    sortKey: { name: LEDGER_KEYS.sort, type: dynamodb.AttributeType.STRING },
    billing: dynamodb.Billing.onDemand(),
    globalSecondaryIndexes: [
      {
        indexName: PENDING_INDEX.name,
        partitionKey: { name: PENDING_INDEX.partition, type: dynamodb.AttributeType.STRING },
        sortKey: { name: PENDING_INDEX.sort, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      },
    ],
    dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    encryption: dynamodb.TableEncryptionV2.customerManagedKey(key, replicaKeyArns),
    replicas: replicaRegions.map((region) => ({
      region,
      deletionProtection: true,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    })),
    // The ledger outlives any stack: deleting a stack orphans the table, it never deletes money.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // A TableV2 is an ITableV2; exactOptionalPropertyTypes trips over how aws-cdk-lib declares one property.
  return table as unknown as dynamodb.ITableV2;
}
