import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultProxy,
  type FaultRates,
  NO_FAULTS,
  startFaultProxy,
} from '../../tools/chaos/fault-proxy.js';
import { Random } from '../../tools/chaos/random.js';
import { createIsolatedLedger, type IsolatedLedger } from '../helpers/emulators.js';

/**
 * The fault proxy must produce faults the real SDK reads exactly as AWS's, and must not lie about
 * what reached the emulator: a refused entry is not in the stream, an "ambiguous" write is.
 */
let ledger: IsolatedLedger;
let dynamoProxy: FaultProxy;
let kinesisProxy: FaultProxy;
let applied: number[] = [];

beforeAll(async () => {
  ledger = await createIsolatedLedger('fault-proxy');
  dynamoProxy = await startFaultProxy({
    service: 'dynamodb',
    target: ledger.endpoints.dynamodbEndpoint,
    random: new Random(7),
    onTransactionApplied: (count) => applied.push(count),
  });
  kinesisProxy = await startFaultProxy({
    service: 'kinesis',
    target: ledger.endpoints.kinesisEndpoint,
    random: new Random(11),
  });
});
afterAll(async () => {
  await Promise.all([dynamoProxy?.close(), kinesisProxy?.close()]);
  await ledger?.cleanup();
});

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** One attempt: what the SDK makes of the very first answer. */
function dynamo(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ region: ledger.endpoints.region, endpoint, credentials, maxAttempts: 1 });
}
function kinesis(endpoint: string): KinesisClient {
  return new KinesisClient({
    region: ledger.endpoints.region,
    endpoint,
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
}
const only = (rates: Partial<FaultRates>): FaultRates => ({ ...NO_FAULTS, ...rates });
const key = (id: string) => ({ pk: { S: `PROXY#${id}` }, sk: { S: 'X' } });

async function exists(id: string): Promise<boolean> {
  const out = await ledger.clients.dynamodb.send(
    new GetItemCommand({ TableName: ledger.config.tableName, Key: key(id), ConsistentRead: true }),
  );
  return out.Item !== undefined;
}

async function streamPayloads(): Promise<string[]> {
  const raw = ledger.clients.kinesis;
  const { streamName } = ledger.config;
  const shards = (await raw.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const payloads: string[] = [];
  for (const shard of shards) {
    const it = await raw.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId ?? '',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const out = await raw.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator ?? '', Limit: 1000 }));
    payloads.push(...(out.Records ?? []).map((r) => Buffer.from(r.Data ?? new Uint8Array()).toString()));
  }
  return payloads;
}

describe('fault proxy', () => {
  it('refuses PutRecords entries per entry, writes only the others, in order', async () => {
    kinesisProxy.setRates(only({ putRecordsRefuse: 0.5 }));
    const client = kinesis(kinesisProxy.endpoint);
    const data = Array.from({ length: 40 }, (_, i) => `refuse-${i}`);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: ledger.config.streamName,
        Records: data.map((d) => ({ Data: Buffer.from(d), PartitionKey: 'one-key' })),
      }),
    );
    kinesisProxy.setRates(NO_FAULTS);
    client.destroy();
    const results = out.Records ?? [];
    const refused = data.filter((_, i) => results[i]?.ErrorCode === 'ProvisionedThroughputExceededException');
    const written = data.filter((_, i) => results[i]?.SequenceNumber !== undefined);
    expect(refused.length).toBeGreaterThan(5);
    expect(written.length).toBeGreaterThan(5);
    expect(refused.length + written.length).toBe(data.length);
    expect(out.FailedRecordCount).toBe(refused.length);
    expect((await streamPayloads()).filter((p) => p.startsWith('refuse-'))).toEqual(written);
  });

  it('delivers a GetRecords page a second time, then goes on', async () => {
    const raw = ledger.clients.kinesis;
    await raw.send(
      new PutRecordsCommand({
        StreamName: ledger.config.streamName,
        Records: ['again-1', 'again-2'].map((d) => ({ Data: Buffer.from(d), PartitionKey: 'one-key' })),
      }),
    );
    const client = kinesis(kinesisProxy.endpoint);
    const shards = (await client.send(new ListShardsCommand({ StreamName: ledger.config.streamName })))
      .Shards;
    const start = await client.send(
      new GetShardIteratorCommand({
        StreamName: ledger.config.streamName,
        ShardId: shards?.[0]?.ShardId ?? '',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    kinesisProxy.setRates(only({ getRecordsRepeat: 1 }));
    const first = await client.send(new GetRecordsCommand({ ShardIterator: start.ShardIterator ?? '' }));
    kinesisProxy.setRates(NO_FAULTS);
    const second = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator ?? '' }));
    const third = await client.send(new GetRecordsCommand({ ShardIterator: second.NextShardIterator ?? '' }));
    client.destroy();
    const seq = (out: typeof first) => (out.Records ?? []).map((r) => r.SequenceNumber);
    expect(seq(first).length).toBeGreaterThan(0);
    expect(seq(second)).toEqual(seq(first));
    expect(seq(third)).toEqual([]);
    expect(kinesisProxy.stats().pagesRepeated).toBe(1);
  });

  it('throttles DynamoDB calls before they reach the emulator', async () => {
    dynamoProxy.setRates(only({ dynamodbThrottle: 1 }));
    const client = dynamo(dynamoProxy.endpoint);
    const error = await client
      .send(new PutItemCommand({ TableName: ledger.config.tableName, Item: key('throttled') }))
      .catch((e: unknown) => e as Error);
    dynamoProxy.setRates(NO_FAULTS);
    client.destroy();
    expect(['ThrottlingException', 'ProvisionedThroughputExceededException']).toContain(
      (error as Error).name,
    );
    expect(await exists('throttled')).toBe(false);
  });

  it('cancels a transaction with a TransactionConflict reason per action, writing nothing', async () => {
    dynamoProxy.setRates(only({ transactionConflict: 1 }));
    const client = dynamo(dynamoProxy.endpoint);
    const error = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: ['tx-a', 'tx-b'].map((id) => ({
            Put: { TableName: ledger.config.tableName, Item: key(id) },
          })),
        }),
      )
      .catch((e: unknown) => e);
    dynamoProxy.setRates(NO_FAULTS);
    client.destroy();
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const codes = (error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code);
    expect(codes).toHaveLength(2);
    expect(codes).toContain('TransactionConflict');
    expect(await exists('tx-a')).toBe(false);
  });

  it('applies an ambiguous write but answers 500, and reports applied transactions', async () => {
    applied = [];
    dynamoProxy.setRates(only({ ambiguous: 1 }));
    const client = dynamo(dynamoProxy.endpoint);
    const error = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: ledger.config.tableName, Item: key('ambiguous') } }],
        }),
      )
      .catch((e: unknown) => e as Error);
    dynamoProxy.setRates(NO_FAULTS);
    client.destroy();
    expect((error as Error).name).toBe('InternalServerError');
    expect(await exists('ambiguous')).toBe(true);
    expect(applied).toHaveLength(1);
  });
});
