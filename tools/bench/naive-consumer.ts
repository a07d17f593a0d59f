import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import {
  accountFromItem,
  accountKey,
  entryItem,
  N,
  S,
  transferKey,
} from '../../shared/adapters/dynamo-codec.js';
import { decodeCommand, transferRequestOf } from '../../shared/domain/commands.js';
import { type Account, decideTransfer, entriesOf, TransferStatus } from '../../shared/domain/ledger.js';

/**
 * The baseline `consumer_speedup_vs_naive` divides by: the simplest consumer that keeps the same item
 * layout and conditions. One record at a time, in order: read both accounts (one consistent
 * BatchGetItem), decide with the same domain rule, write the outcome in one TransactWriteItems (the
 * transfer, both accounts, both statement entries) or one UpdateItem for a rejection. No concurrency,
 * no batching across records, no retries (the bench workload has no contention). It handles transfer
 * records only.
 */
export function createNaiveConsumer(
  client: DynamoDBClient,
  tableName: string,
  region: string,
): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  return async (event) => {
    for (const record of event.Records) {
      const decoded = decodeCommand(Buffer.from(record.kinesis.data, 'base64'));
      if (!decoded.ok || decoded.command.type !== 'transfer')
        throw new Error(`naive consumer: not a transfer`);
      await applyOne(
        client,
        tableName,
        region,
        decoded.command.fingerprint,
        transferRequestOf(decoded.command),
      );
    }
    return { batchItemFailures: [] };
  };
}

async function applyOne(
  client: DynamoDBClient,
  table: string,
  region: string,
  fingerprint: string,
  request: ReturnType<typeof transferRequestOf>,
): Promise<void> {
  const out = await client.send(
    new BatchGetItemCommand({
      RequestItems: {
        [table]: {
          Keys: [accountKey(request.debitAccountId), accountKey(request.creditAccountId)],
          ConsistentRead: true,
        },
      },
    }),
  );
  const accounts = (out.Responses?.[table] ?? []).map(accountFromItem);
  const debit = accounts.find((a) => a.id === request.debitAccountId);
  const credit = accounts.find((a) => a.id === request.creditAccountId);
  const decision = decideTransfer(request, debit, credit, region);
  const now = new Date().toISOString();
  const finalize = {
    ConditionExpression: '#status = :accepted AND fingerprint = :fp',
    ExpressionAttributeNames: { '#status': 'status' },
  };
  if (decision.outcome !== 'post' || debit === undefined || credit === undefined) {
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: transferKey(request.id),
        ...finalize,
        UpdateExpression: 'SET #status = :rejected, reason = :reason, rejectedAt = :at REMOVE gsi1pk, gsi1sk',
        ExpressionAttributeValues: {
          ':accepted': S(TransferStatus.ACCEPTED),
          ':fp': S(fingerprint),
          ':rejected': S(TransferStatus.REJECTED),
          ':reason': S(decision.outcome === 'reject' ? decision.reason : 'not_home'),
          ':at': S(now),
        },
      }),
    );
    return;
  }
  const [debitEntry, creditEntry] = entriesOf(request, debit, credit, decision, now);
  await client.send(
    new TransactWriteItemsCommand({
      ClientRequestToken: createHash('sha256')
        .update(`${request.id}|${debit.version}|${credit.version}|${now}`)
        .digest('base64url')
        .slice(0, 36),
      TransactItems: [
        {
          Update: {
            TableName: table,
            Key: transferKey(request.id),
            ...finalize,
            UpdateExpression:
              'SET #status = :posted, postedAt = :at, debitBalanceAfter = :db, creditBalanceAfter = :cb REMOVE gsi1pk, gsi1sk',
            ExpressionAttributeValues: {
              ':accepted': S(TransferStatus.ACCEPTED),
              ':fp': S(fingerprint),
              ':posted': S(TransferStatus.POSTED),
              ':at': S(now),
              ':db': N(decision.debitBalanceAfter),
              ':cb': N(decision.creditBalanceAfter),
            },
          },
        },
        { Update: accountUpdate(table, debit, -request.amount, now) },
        { Update: accountUpdate(table, credit, request.amount, now) },
        {
          Put: {
            TableName: table,
            Item: entryItem(debitEntry),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: table,
            Item: entryItem(creditEntry),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
    }),
  );
}

function accountUpdate(table: string, account: Account, delta: bigint, at: string) {
  const isDebit = delta < 0n;
  return {
    TableName: table,
    Key: accountKey(account.id),
    ConditionExpression: `version = :v AND currency = :cur AND homeRegion = :home${isDebit ? ' AND balance >= :floor' : ''}`,
    UpdateExpression: 'SET balance = balance + :delta, version = :next, updatedAt = :at',
    ExpressionAttributeValues: {
      ':v': N(account.version),
      ':cur': S(account.currency),
      ':home': S(account.homeRegion),
      ':delta': N(delta),
      ':next': N(account.version + 1n),
      ':at': S(at),
      ...(isDebit ? { ':floor': N(-delta - account.overdraftLimit) } : {}),
    },
  };
}
