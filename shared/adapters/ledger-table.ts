import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The ledger's single DynamoDB table: one definition used by the local stack and the tests;
 * infra-cdk mirrors it (keys, index, stream, TTL) and its tests assert the same names.
 *
 * Items (pk / sk):
 * - `ACCT#<accountId>` / `ACCT`              the account: balance, heldAmount, limit, status, version
 * - `ACCT#<accountId>` / `E#<version:020>`   a journal page: the statement lines one write added
 * - `XFER#<transferId>` / `XFER`             the transfer: request, status, reason, timestamps
 * - `DEAD#<source>` / `<record id>`          a dead-lettered record with its reason (expires by TTL)
 * - `CKPT#<stream>` / `<shardId>`             local stream poller checkpoints (local stack only)
 *
 * GSI `pending` (sparse, keys only), the scheduler's index: `PENDING#nn` by acceptance time while a
 * transfer is ACCEPTED (the reconciler re-enqueues it), `HOLD#nn` by expiry time while it is HELD
 * (the sweeper expires it); a final transfer is not in it.
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
