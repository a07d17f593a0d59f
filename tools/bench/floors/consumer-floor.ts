import { BatchGetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { createClients } from '../../../shared/adapters/clients.js';
import { floorConfig } from './env.js';

/**
 * The floor the ledger consumer is measured against (init time): the same SDK clients, created the
 * same way as buildConsumerHandler creates them (shared/adapters/clients.ts), and a handler making the
 * consumer's AWS calls for each transfer record (a consistent BatchGetItem of both accounts, then one
 * TransactWriteItems of the transfer, both accounts and both entries), with JSON.parse as its only
 * decoding: no Powertools, no schema, no ordering. Bundled by tools/bench with the CDK options.
 */
const config = floorConfig();
const { dynamodb } = createClients(config);
const S = (value: string) => ({ S: value });
const N = (value: string) => ({ N: value });

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  for (const record of event.Records) {
    const command = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as {
      transfer: { id: string; debitAccountId: string; creditAccountId: string; amount: string };
    };
    const t = command.transfer;
    const keys = [t.debitAccountId, t.creditAccountId].map((a) => ({ pk: S(`ACCT#${a}`), sk: S('ACCT') }));
    const read = await dynamodb.send(
      new BatchGetItemCommand({ RequestItems: { [config.tableName]: { Keys: keys, ConsistentRead: true } } }),
    );
    const found = read.Responses?.[config.tableName] ?? [];
    const version = (i: number) => found[i]?.version?.N ?? '0';
    const now = new Date().toISOString();
    const account = (id: string, delta: string, v: string) => ({
      Update: {
        TableName: config.tableName,
        Key: { pk: S(`ACCT#${id}`), sk: S('ACCT') },
        ConditionExpression: 'version = :v',
        UpdateExpression: 'SET balance = balance + :d, version = :n, updatedAt = :at',
        ExpressionAttributeValues: {
          ':v': N(v),
          ':d': N(delta),
          ':n': N(String(Number(v) + 1)),
          ':at': S(now),
        },
      },
    });
    const entry = (id: string, v: string) => ({
      Put: {
        TableName: config.tableName,
        Item: {
          pk: S(`ACCT#${id}`),
          sk: S(`E#${v.padStart(20, '0')}`),
          transferId: S(t.id),
          amount: N(t.amount),
        },
      },
    });
    await dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: config.tableName,
              Key: { pk: S(`XFER#${t.id}`), sk: S('XFER') },
              UpdateExpression: 'SET #s = :p, postedAt = :at REMOVE gsi1pk, gsi1sk',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':p': S('POSTED'), ':at': S(now) },
            },
          },
          account(t.debitAccountId, `-${t.amount}`, version(0)),
          account(t.creditAccountId, t.amount, version(1)),
          entry(t.debitAccountId, String(Number(version(0)) + 1)),
          entry(t.creditAccountId, String(Number(version(1)) + 1)),
        ],
      }),
    );
  }
  return { batchItemFailures: [] };
};
