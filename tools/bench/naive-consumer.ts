import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import {
  accountFromItem,
  accountItem,
  accountKey,
  N,
  pageItem,
  S,
  transferFromItem,
  transferItem,
  transferKey,
} from '../../shared/adapters/dynamo-codec.js';
import { decodeCommand, transferRequestOf } from '../../shared/domain/commands.js';
import {
  type Account,
  decideTransfer,
  type JournalPage,
  LineType,
  type Transfer,
  TransferStatus,
} from '../../shared/domain/ledger.js';

/**
 * The baseline `consumer_speedup_vs_naive` divides by: the simplest consumer that keeps the same item
 * layout and conditions, with no coalescing. One record at a time, in order: read the transfer and
 * both accounts (one consistent BatchGetItem), decide with the same domain rule (decideTransfer),
 * compute the balances itself, and write the outcome in one TransactWriteItems of five Puts built
 * with the codec (the transfer POSTED, both accounts, and a one-line journal page per account) or
 * one PutItem of the REJECTED transfer. Same conditions as the real store (transfer revision,
 * account version and home region, pages new). No concurrency, no batching across records, no
 * retries (the bench workload has no contention). It handles plain transfer records only.
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
        transferRequestOf(decoded.command.transfer),
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
          Keys: [
            transferKey(request.id),
            accountKey(request.debitAccountId),
            accountKey(request.creditAccountId),
          ],
          ConsistentRead: true,
        },
      },
    }),
  );
  const items = out.Responses?.[table] ?? [];
  const accounts = items.filter((i) => i.kind?.S === 'account').map(accountFromItem);
  const transferItemRead = items.find((i) => i.kind?.S === 'transfer');
  const current = transferItemRead === undefined ? undefined : transferFromItem(transferItemRead);
  // Same job as the real consumer: only an ACCEPTED transfer with this body is applied, once.
  if (current === undefined || current.fingerprint !== fingerprint) throw new Error('naive: not recorded');
  if (current.status !== TransferStatus.ACCEPTED) return;
  const debit = accounts.find((a) => a.id === request.debitAccountId);
  const credit = accounts.find((a) => a.id === request.creditAccountId);
  const decision = decideTransfer(request, debit, credit, region);
  const now = new Date().toISOString();
  const transferCondition = {
    ConditionExpression: 'revision = :r OR (attribute_not_exists(revision) AND :r = :zero)',
    ExpressionAttributeValues: { ':r': N(current.revision), ':zero': N(0) },
  };
  const nextRevision = current.revision + 1n;
  if (decision.outcome !== 'post' || debit === undefined || credit === undefined) {
    const rejected: Transfer = {
      ...current,
      status: TransferStatus.REJECTED,
      reason: decision.outcome === 'reject' ? decision.reason : 'account_not_found',
      rejectedAt: now,
      revision: nextRevision,
    };
    await client.send(
      new PutItemCommand({ TableName: table, Item: transferItem(rejected), ...transferCondition }),
    );
    return;
  }
  const debitAfter: Account = {
    ...debit,
    balance: debit.balance - request.amount,
    version: debit.version + 1n,
    updatedAt: now,
  };
  const creditAfter: Account = {
    ...credit,
    balance: credit.balance + request.amount,
    version: credit.version + 1n,
    updatedAt: now,
  };
  const posted: Transfer = {
    ...current,
    status: TransferStatus.POSTED,
    postedAt: now,
    revision: nextRevision,
  };
  const pages: JournalPage[] = [
    onePage(debitAfter, now, request.id, LineType.DEBIT, request.amount, credit.id),
    onePage(creditAfter, now, request.id, LineType.CREDIT, request.amount, debit.id),
  ];
  await client.send(
    new TransactWriteItemsCommand({
      ClientRequestToken: createHash('sha256')
        .update(`${request.id}|${debit.version}|${credit.version}|${now}`)
        .digest('base64url')
        .slice(0, 36),
      TransactItems: [
        { Put: { TableName: table, Item: transferItem(posted), ...transferCondition } },
        { Put: accountPut(table, debit, debitAfter) },
        { Put: accountPut(table, credit, creditAfter) },
        ...pages.map((p) => ({
          Put: { TableName: table, Item: pageItem(p), ConditionExpression: 'attribute_not_exists(pk)' },
        })),
      ],
    }),
  );
}

/** The account's new image, written only if still at the version read and homed here. */
function accountPut(table: string, before: Account, after: Account) {
  return {
    TableName: table,
    Item: accountItem(after),
    ConditionExpression: 'version = :v AND homeRegion = :home',
    ExpressionAttributeValues: { ':v': N(before.version), ':home': S(before.homeRegion) },
  };
}

/** A journal page holding this transfer's one line, at the version the write makes. */
function onePage(
  after: Account,
  postedAt: string,
  transferId: string,
  type: LineType,
  amount: bigint,
  counterpartyAccountId: string,
): JournalPage {
  return {
    accountId: after.id,
    version: after.version,
    currency: after.currency,
    postedAt,
    lines: [
      {
        transferId,
        type,
        amount,
        counterpartyAccountId,
        balanceAfter: after.balance,
        heldAfter: after.heldAmount,
      },
    ],
  };
}
