import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '../../functions/ledger-consumer/consumer.js';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { KinesisCommandQueue } from '../../shared/adapters/kinesis-command-queue.js';
import { accountFingerprint, type TransferRequest } from '../../shared/domain/ledger.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import { LedgerService } from '../../shared/services/ledger-service.js';
import { auditLedger } from '../../tools/chaos/audit.js';
import { Random } from '../../tools/chaos/random.js';
import { KinesisPoller } from '../../tools/local/poller.js';
import { createIsolatedLedger, type IsolatedLedger } from '../helpers/emulators.js';
import { cancelTransactions, throttleDynamoWrites } from '../helpers/faults.js';

/**
 * The consumer dies in the middle of a batch, after applying part of it (as a Lambda that times out
 * or runs out of memory does): the event source redelivers the whole batch, so the applied part
 * comes again. Meanwhile DynamoDB cancels transactions (TransactionConflict) and throttles writes.
 * Every transfer must end POSTED or REJECTED exactly once, and the ledger must balance.
 */
const ACCOUNTS = ['treasury', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
const TRANSFERS = 240;
const SUBMIT_CHUNK = 40;

let ledger: IsolatedLedger;
beforeAll(async () => {
  ledger = await createIsolatedLedger('consumer-crash', { shards: 2 });
});
afterAll(() => ledger?.cleanup());

/** Applies the first half of some batches, then throws: the whole batch comes back. */
function crashingMidBatch(handler: (e: KinesisStreamEvent) => Promise<unknown>) {
  const stats = { invocations: 0, crashes: 0, appliedBeforeCrash: 0 };
  const wrapped = async (event: KinesisStreamEvent) => {
    stats.invocations += 1;
    if (stats.invocations % 3 === 1 && event.Records.length > 1) {
      const applied = event.Records.slice(0, Math.floor(event.Records.length / 2));
      await handler({ Records: applied });
      stats.crashes += 1;
      stats.appliedBeforeCrash += applied.length;
      throw new Error('consumer crashed in the middle of the batch (injected)');
    }
    return handler(event) as Promise<void>;
  };
  return { wrapped, stats };
}

describe('consumer killed in the middle of a batch, with transaction conflicts and throttling', () => {
  it('applies every transfer exactly once and keeps the ledger balanced', async () => {
    const { config } = ledger;
    const region = config.ledgerRegion;
    const clean = createClients(config);
    const store = new DynamoLedgerStore(clean.dynamodb, config.tableName);
    const at = new Date().toISOString();
    for (const id of ACCOUNTS) {
      const spec = { id, currency: 'USD', overdraftLimit: id === 'treasury' ? 10n ** 9n : 0n };
      await store.openAccount(spec, region, accountFingerprint(spec), at);
    }
    // The consumer's own client, with the faults.
    const faulty = createClients(config);
    const conflicts = cancelTransactions(faulty.dynamodb, (call) => call % 4 === 0);
    const throttles = throttleDynamoWrites(
      faulty.dynamodb,
      (name) => name === 'TransactWriteItemsCommand' && Math.random() < 0.1,
    );
    const faultyStore = new DynamoLedgerStore(faulty.dynamodb, config.tableName);
    const consumer = createConsumer(new LedgerService(faultyStore, faultyStore, region), {
      logger: new Logger({ serviceName: 'crash-test', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'crash-test' }),
    });
    const crashing = crashingMidBatch(consumer);

    const random = new Random(42);
    const requests: TransferRequest[] = Array.from({ length: TRANSFERS }, (_, i) => {
      const funding = i < ACCOUNTS.length - 1;
      const from = funding ? 'treasury' : random.pick(ACCOUNTS.slice(1));
      const to = funding
        ? (ACCOUNTS[i + 1] as string)
        : random.pick(ACCOUNTS.slice(1).filter((a) => a !== from));
      return {
        id: `cx-${i}`,
        debitAccountId: from,
        creditAccountId: to,
        amount: BigInt(funding ? 5_000 : random.int(1, 900)),
        currency: 'USD',
      };
    });
    const ingest = new IngestService({
      reader: store,
      recorder: store,
      queue: new KinesisCommandQueue(clean.kinesis, config.streamName),
      region,
    });
    for (let i = 0; i < requests.length; i += SUBMIT_CHUNK) {
      const outcomes = await ingest.submitTransfers(requests.slice(i, i + SUBMIT_CHUNK));
      expect(outcomes.map((o) => o.kind).filter((k) => k !== 'accepted')).toEqual([]);
    }
    // Some resent by clients: the same records twice in the stream.
    await ingest.submitTransfers(requests.filter((_, i) => i % 10 === 0));

    const poller = new KinesisPoller({
      kinesis: clean.kinesis,
      dynamodb: clean.dynamodb,
      streamName: config.streamName,
      tableName: config.tableName,
      region: config.awsRegion,
      handler: crashing.wrapped,
      batchSize: 25,
      bisectOnError: true,
      maxRetryAttempts: 20,
      pollIntervalMs: 50,
      retryBackoffMs: 10,
    });
    await poller.start();
    try {
      await poller.drained(90_000);
    } finally {
      await poller.stop();
      clean.dynamodb.destroy();
      clean.kinesis.destroy();
      faulty.dynamodb.destroy();
      faulty.kinesis.destroy();
    }

    expect(crashing.stats.crashes).toBeGreaterThan(3);
    expect(crashing.stats.appliedBeforeCrash).toBeGreaterThan(20);
    expect(conflicts.injected()).toBeGreaterThan(10);
    expect(throttles.injected()).toBeGreaterThan(0);
    expect(poller.counters.deadLettered).toBe(0);
    const audit = await auditLedger({ dynamodb: ledger.clients.dynamodb, tableName: config.tableName });
    expect(audit.findings).toEqual([]);
    expect(audit.doubled).toEqual([]);
    expect(audit.transfers.accepted).toBe(0);
    const rejected = Object.values(audit.transfers.rejected).reduce((a, b) => a + b, 0);
    expect(audit.transfers.posted + rejected).toBe(TRANSFERS);
    expect(Object.keys(audit.transfers.rejected).filter((r) => r !== 'insufficient_funds')).toEqual([]);
    expect(audit.currencies).toEqual([{ currency: 'USD', accounts: ACCOUNTS.length, sum: 0n }]);
  }, 150_000);
});
