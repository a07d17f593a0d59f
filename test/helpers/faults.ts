import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { KinesisClient, PutRecordsRequestEntry, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';

/**
 * Test tooling only: makes a real Kinesis client's PutRecords refuse some entries the way Kinesis
 * does under throttling (ProvisionedThroughputExceededException per entry). Refused entries are
 * removed from the request before it is sent, so they are really not written; the response gets
 * a failure at their positions. Never used by production code paths.
 */
export function refusePutRecords(
  client: KinesisClient,
  shouldRefuse: (entry: PutRecordsRequestEntry, attempt: number) => boolean,
): { refused: () => number; calls: () => number } {
  let refused = 0;
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand') return next(args);
      calls++;
      const input = args.input as { Records?: PutRecordsRequestEntry[] };
      const all = input.Records ?? [];
      const refuseMask = all.map((entry) => shouldRefuse(entry, calls));
      const kept = all.filter((_, i) => !refuseMask[i]);
      refused += all.length - kept.length;
      if (kept.length === 0) {
        const records = all.map(() => throttled());
        return {
          output: { FailedRecordCount: all.length, Records: records, $metadata: {} },
          response: {},
        } as never;
      }
      const result = await next({ ...args, input: { ...input, Records: kept } });
      const out = result.output as { Records?: PutRecordsResultEntry[]; FailedRecordCount?: number };
      const sent = [...(out.Records ?? [])];
      const merged = refuseMask.map((r) => (r ? throttled() : (sent.shift() ?? throttled())));
      out.Records = merged;
      out.FailedRecordCount = merged.filter((r) => r.ErrorCode !== undefined).length;
      return result;
    },
    { step: 'initialize', name: 'refusePutRecords' },
  );
  return { refused: () => refused, calls: () => calls };
}

function throttled(): PutRecordsResultEntry {
  return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded (injected)' };
}

/**
 * Test tooling only: makes a real DynamoDB client answer the write calls chosen by `shouldFail`
 * with a throttling error, before anything is sent (so nothing is written), as DynamoDB does when
 * a partition is hot. Returns a counter of injected failures.
 */
export function throttleDynamoWrites(
  client: { middlewareStack: { add: KinesisClient['middlewareStack']['add'] } },
  shouldFail: (commandName: string, input: unknown) => boolean,
): { injected: () => number } {
  let injected = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (shouldFail(context.commandName ?? '', args.input)) {
        injected++;
        const error = new Error('Throughput exceeds the current capacity (injected)');
        error.name = 'ThrottlingException';
        Object.assign(error, { $metadata: { httpStatusCode: 400 }, $retryable: { throttling: true } });
        throw error;
      }
      return next(args);
    },
    { step: 'initialize', name: 'throttleDynamoWrites' },
  );
  return { injected: () => injected };
}

/**
 * Test tooling only: makes a real DynamoDB client's TransactWriteItems calls chosen by
 * `shouldCancel` fail as DynamoDB does when another transaction holds one of their items: a
 * TransactionCanceledException with one reason per action, TransactionConflict on one of them and
 * None on the others. Nothing is sent, so nothing is written.
 */
export function cancelTransactions(
  client: { middlewareStack: { add: KinesisClient['middlewareStack']['add'] } },
  shouldCancel: (call: number, input: unknown) => boolean,
): { injected: () => number } {
  let injected = 0;
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
      calls++;
      if (!shouldCancel(calls, args.input)) return next(args);
      injected++;
      const actions = (args.input as { TransactItems?: unknown[] }).TransactItems ?? [];
      const culprit = calls % Math.max(1, actions.length);
      throw new TransactionCanceledException({
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons (injected)',
        $metadata: { httpStatusCode: 400 },
        CancellationReasons: actions.map((_, i) =>
          i === culprit
            ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item (injected)' }
            : { Code: 'None' },
        ),
      });
    },
    { step: 'initialize', name: 'cancelTransactions' },
  );
  return { injected: () => injected };
}
