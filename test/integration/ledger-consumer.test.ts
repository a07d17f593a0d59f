import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerHandler, createConsumer } from '../../functions/ledger-consumer/consumer.js';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { KinesisCommandQueue } from '../../shared/adapters/kinesis-command-queue.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import { LedgerService } from '../../shared/services/ledger-service.js';
import { createIsolatedLedger } from '../helpers/emulators.js';
import { throttleDynamoWrites } from '../helpers/faults.js';
import { eventOf, rawRecord, readAllRecords } from '../helpers/stream.js';

let config: RuntimeConfig;
let cleanup: () => Promise<void>;
let clients: ReturnType<typeof createClients>;
let store: DynamoLedgerStore;
let ingest: IngestService;
let consumer: ConsumerHandler;
const seen = new Set<string>();

beforeAll(async () => {
  ({ config, cleanup } = await createIsolatedLedger('consumer'));
  clients = createClients(config);
  store = new DynamoLedgerStore(clients.dynamodb, config.tableName);
  const queue = new KinesisCommandQueue(clients.kinesis, config.streamName);
  // The account-open wait is short here: the test drives the consumer itself.
  ingest = new IngestService({
    reader: store,
    recorder: store,
    queue,
    region: config.ledgerRegion,
    accountOpenWaitMs: 0,
  });
  const service = new LedgerService(store, store, config.ledgerRegion);
  consumer = createConsumer(service, {
    logger: new Logger({ serviceName: 'test', logLevel: 'ERROR' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
  });
});
afterAll(async () => {
  clients.kinesis.destroy();
  clients.dynamodb.destroy();
  await cleanup();
});

/** Records that reached the stream since the last call, in per-shard order. */
async function newRecords() {
  const all = await readAllRecords(clients.kinesis, config.streamName, config.awsRegion);
  const fresh = all.filter((r) => !seen.has(r.eventID));
  for (const r of fresh) seen.add(r.eventID);
  return fresh;
}
async function drain() {
  const records = await newRecords();
  return { records, response: await consumer(eventOf(records)) };
}
const usd = (id: string, overdraftLimit = 0n) => ({ id, currency: 'USD', overdraftLimit });
const t = (id: string, debitAccountId: string, creditAccountId: string, amount: bigint) => ({
  id,
  debitAccountId,
  creditAccountId,
  amount,
  currency: 'USD',
});

describe('ledger consumer against the emulators', () => {
  it('opens accounts and posts transfers from real stream records, in per-account order', async () => {
    await Promise.all([
      ingest.openAccount(usd('c1-bank', 1000n)),
      ingest.openAccount(usd('c1-alice')),
      ingest.openAccount(usd('c1-bob')),
    ]);
    expect((await drain()).response.batchItemFailures).toEqual([]);
    // bob can only pay carol-bound funds after alice pays him: same batch, order matters.
    await ingest.submitTransfers([
      t('c1-t1', 'c1-bank', 'c1-alice', 100n),
      t('c1-t2', 'c1-alice', 'c1-bob', 60n),
      t('c1-t3', 'c1-bob', 'c1-bank', 60n),
    ]);
    const { response } = await drain();
    expect(response.batchItemFailures).toEqual([]);
    for (const id of ['c1-t1', 'c1-t2', 'c1-t3'])
      expect((await store.getTransfer(id))?.status).toBe('POSTED');
    expect((await store.getAccount('c1-bank'))?.balance).toBe(-40n);
    expect((await store.getAccount('c1-alice'))?.balance).toBe(40n);
    expect((await store.getAccount('c1-bob'))?.balance).toBe(0n);
  });

  it('treats a redelivered batch as a no-op (exactly-once effect)', async () => {
    await Promise.all([ingest.openAccount(usd('c2-a', 500n)), ingest.openAccount(usd('c2-b'))]);
    await drain();
    await ingest.submitTransfers([t('c2-t1', 'c2-a', 'c2-b', 70n), t('c2-t2', 'c2-a', 'c2-b', 30n)]);
    const { records } = await drain();
    for (let i = 0; i < 3; i++) {
      const again = await consumer(eventOf([...records].reverse()));
      expect(again.batchItemFailures).toEqual([]);
    }
    expect(await store.getAccount('c2-a')).toMatchObject({ balance: -100n, version: 1n });
    expect(await store.getAccount('c2-b')).toMatchObject({ balance: 100n, version: 1n });
  });

  it('records business rejections as outcomes and does not report them as failures', async () => {
    await Promise.all([
      ingest.openAccount(usd('c3-a')),
      ingest.openAccount({ id: 'c3-eur', currency: 'EUR', overdraftLimit: 0n }),
    ]);
    await drain();
    await ingest.submitTransfers([
      t('c3-t1', 'c3-a', 'c3-eur', 1n),
      t('c3-t2', 'c3-a', 'c3-nobody', 1n),
      t('c3-t3', 'c3-a', 'c3-a', 1n),
    ]);
    expect((await drain()).response.batchItemFailures).toEqual([]);
    expect(await store.getTransfer('c3-t1')).toMatchObject({
      status: 'REJECTED',
      reason: 'currency_mismatch',
    });
    expect(await store.getTransfer('c3-t2')).toMatchObject({
      status: 'REJECTED',
      reason: 'account_not_found',
    });
    expect(await store.getTransfer('c3-t3')).toMatchObject({ status: 'REJECTED', reason: 'same_account' });
  });

  it('dead-letters an undecodable record with its reason and never blocks the batch', async () => {
    await Promise.all([ingest.openAccount(usd('c4-a', 10n)), ingest.openAccount(usd('c4-b'))]);
    await drain();
    await ingest.submitTransfer(t('c4-t1', 'c4-a', 'c4-b', 5n));
    const { records } = { records: await newRecords() };
    const poison = rawRecord(new TextEncoder().encode('{"not":"a command"}'), 'c4-a', '1');
    const response = await consumer(eventOf([poison, ...records]));
    expect(response.batchItemFailures).toEqual([]);
    expect((await store.getTransfer('c4-t1'))?.status).toBe('POSTED');
    const dead = await clients.dynamodb.send(
      new QueryCommand({
        TableName: config.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'DEAD#consumer-decode' } },
      }),
    );
    expect(
      dead.Items?.some(
        (i) => i.recordId?.S === poison.eventID && (i.reason?.S ?? '').includes('invalid command'),
      ),
    ).toBe(true);
  });

  it('reports a transient failure for the whole chunk it hit, applies none of it, and the redelivery applies all', async () => {
    await Promise.all([
      ingest.openAccount(usd('c5-a', 100n)),
      ingest.openAccount(usd('c5-b')),
      ingest.openAccount(usd('c5-x', 100n)),
      ingest.openAccount(usd('c5-y')),
    ]);
    await drain();
    await ingest.submitTransfers([
      t('c5-t1', 'c5-a', 'c5-b', 1n),
      t('c5-t2', 'c5-a', 'c5-b', 2n),
      t('c5-t3', 'c5-x', 'c5-y', 3n),
    ]);
    const records = await newRecords();
    // A table that throttles every write of transfer c5-t1 (a hot partition), via the real SDK client.
    const flakyClients = createClients(config);
    const faults = throttleDynamoWrites(
      flakyClients.dynamodb,
      (name, input) =>
        ['TransactWriteItemsCommand', 'UpdateItemCommand'].includes(name) &&
        JSON.stringify(input).includes('XFER#c5-t1'),
    );
    const flaky = new DynamoLedgerStore(flakyClients.dynamodb, config.tableName);
    const flakyConsumer = createConsumer(new LedgerService(flaky, flaky, config.ledgerRegion), {
      logger: new Logger({ serviceName: 'test', logLevel: 'CRITICAL' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
    });
    const response = await flakyConsumer(eventOf(records));
    const failedIds = response.batchItemFailures.map((f) => f.itemIdentifier);
    const seqOf = (id: string) =>
      records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString().includes(`"${id}"`))?.kinesis
        .sequenceNumber;
    expect(faults.injected()).toBeGreaterThan(0);
    // The three records form one chunk (one transaction): none applied, all reported, in order.
    expect(failedIds.sort()).toEqual([seqOf('c5-t1'), seqOf('c5-t2'), seqOf('c5-t3')].sort());
    for (const id of ['c5-t1', 'c5-t2', 'c5-t3'])
      expect((await store.getTransfer(id))?.status).toBe('ACCEPTED');
    // The stream redelivers from the first failure; the healthy consumer applies all, in order,
    // writing c5-a once for both of its transfers (coalesced).
    expect((await consumer(eventOf(records))).batchItemFailures).toEqual([]);
    expect(await store.getAccount('c5-a')).toMatchObject({ balance: -3n, version: 1n });
    flakyClients.dynamodb.destroy();
    const statement = await store.listStatement('c5-a', { limit: 10 });
    expect(statement.entries.map((e) => e.transferId)).toEqual(['c5-t2', 'c5-t1']);
  });
});
