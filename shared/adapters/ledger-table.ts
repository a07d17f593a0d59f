import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The ledger's single DynamoDB table: one definition used by the local stack and the tests;
 * infra-cdk mirrors it (keys, index, stream, TTL) and its tests assert the same names.
 *
 * Items (pk / sk):
 * - `ACCT#<accountId>` / `ACCT`              the account: balance, overdraftLimit, version, homeRegion
 * - `ACCT#<accountId>` / `E#<version:020>`   a statement entry: the account's balance after one posting
 * - `XFER#<transferId>` / `XFER`             the transfer: request, status, reason, timestamps
 * - `DEAD#<source>` / `<time>#<id>`           a dead-lettered record with its reason (expires by TTL)
 * - `CKPT#<stream>` / `<shardId>`             local stream poller checkpoints (local stack only)
 *
 * GSI `pending` (sparse, keys only): present only while a transfer is ACCEPTED, so the
 * reconciler can find transfers whose stream record may never have been written.
 */
export const LEDGER_KEYS = { partition: 'pk', sort: 'sk' } as const;
export const PENDING_INDEX = { name: 'pending', partition: 'gsi1pk', sort: 'gsi1sk' } as const;
export const TTL_ATTRIBUTE = 'expiresAt';

export function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: LEDGER_KEYS.partition, AttributeType: 'S' },
      { AttributeName: LEDGER_KEYS.sort, AttributeType: 'S' },
      { AttributeName: PENDING_INDEX.partition, AttributeType: 'S' },
      { AttributeName: PENDING_INDEX.sort, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: LEDGER_KEYS.partition, KeyType: 'HASH' },
      { AttributeName: LEDGER_KEYS.sort, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: PENDING_INDEX.name,
        KeySchema: [
          { AttributeName: PENDING_INDEX.partition, KeyType: 'HASH' },
          { AttributeName: PENDING_INDEX.sort, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}
