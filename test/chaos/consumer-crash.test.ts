import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerHandler, createConsumer } from '../../functions/ledger-consumer/consumer.js';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { KinesisCommandQueue } from '../../shared/adapters/kinesis-command-queue.js';
import { decodeCommand, type LedgerCommand } from '../../shared/domain/commands.js';
import type { TransferRequest } from '../../shared/domain/ledger.js';
import { type WriteSet, writeSetSize } from '../../shared/domain/planner.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import { chunksOf, LedgerService } from '../../shared/services/ledger-service.js';
import { auditLedger } from '../../tools/chaos/audit.js';
import { Random } from '../../tools/chaos/random.js';
import { KinesisPoller } from '../../tools/local/poller.js';
import { createIsolatedLedger, type IsolatedLedger } from '../helpers/emulators.js';
import { cancelTransactions, throttleDynamoWrites } from '../helpers/faults.js';
import { openAccounts } from './ledger-setup.js';

/**
 * The consumer dies in the middle of a batch, after committing part of it (as a Lambda that times
 * out or runs out of memory does): LedgerService commits a batch in chunks (at most 100 writes
 * each), and the store below throws after the first chunk of some batches was committed, so the
 * event source redelivers the whole batch and the committed part comes again. Meanwhile DynamoDB
 * cancels transactions (TransactionConflict) and throttles writes. Every transfer must end POSTED
 * or REJECTED exactly once, and the ledger must balance.
 */
const ACCOUNTS = ['treasury', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
const TRANSFERS = 400;
const SUBMIT_CHUNK = 40;
/** Records per invocation: several chunks (7 accounts: 86 transfers per chunk), and still more than one after a bisection. */
const BATCH_SIZE = 250;

let ledger: IsolatedLedger;
beforeAll(async () => {
  ledger = await createIsolatedLedger('consumer-crash', { shards: 2 });
});
afterAll(() => ledger?.cleanup());

/** Per invocation (the poller runs the shards concurrently): whether the next writing commit dies. */
const invocation = new AsyncLocalStorage<{ armed: boolean; crashed: boolean }>();

/** A store that, in an armed invocation, dies right after its first commit that wrote something. */
class CrashingStore extends DynamoLedgerStore {
  crashes = 0;
  override async commit(writes: WriteSet) {
    const result = await super.commit(writes);
    const state = invocation.getStore();
    if (state?.armed === true && result === 'committed' && writeSetSize(writes) > 0) {
      state.armed = false;
      state.crashed = true;
      this.crashes += 1;
      throw new Error('consumer crashed after committing a chunk of the batch (injected)');
    }
    return result;
  }
}

/**
 * Arms the store on every invocation whose batch plans more than one chunk (the poller bisects a
 * failed batch, so its retries are smaller and the shard makes progress).
 */
function crashingMidBatch(handler: ConsumerHandler) {
  const stats = { invocations: 0, multiChunk: 0, crashes: 0, firstChunkRecordsBeforeCrash: 0 };
  const wrapped = async (event: KinesisStreamEvent) => {
    stats.invocations += 1;
    const commands = event.Records.flatMap((r) => {
      const decoded = decodeCommand(Buffer.from(r.kinesis.data, 'base64'));
      return decoded.ok ? [{ command: decoded.command as LedgerCommand }] : [];
    });
    const chunks = chunksOf(commands);
    if (chunks.length > 1) stats.multiChunk += 1;
    const state = { armed: chunks.length > 1, crashed: false };
    try {
      return await invocation.run(state, () => handler(event));
    } finally {
      if (state.crashed) {
        // A chunk that wrote was committed, then the process "died" with the rest of the batch.
        stats.crashes += 1;
        stats.firstChunkRecordsBeforeCrash += chunks[0]?.length ?? 0;
      }
    }
  };
  return { wrapped, stats };
}

describe('consumer killed in the middle of a batch, with transaction conflicts and throttling', () => {
  it('applies every transfer exactly once and keeps the ledger balanced', async () => {
    const { config } = ledger;
    const region = config.ledgerRegion;
    const clean = createClients(config);
    const store = new DynamoLedgerStore(clean.dynamodb, config.tableName);
    await openAccounts(
      new LedgerService(store, store, region),
      region,
      ACCOUNTS.map((id) => ({ id, overdraftLimit: id === 'treasury' ? 10n ** 9n : 0n })),
    );
    // The consumer's own client, with the faults.
    const faulty = createClients(config);
    const conflicts = cancelTransactions(faulty.dynamodb, (call) => call % 2 === 0);
    let transactions = 0;
    const throttles = throttleDynamoWrites(
      faulty.dynamodb,
      (name) => name === 'TransactWriteItemsCommand' && ++transactions % 5 === 0,
    );
    const faultyStore = new CrashingStore(faulty.dynamodb, config.tableName);
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
      batchSize: BATCH_SIZE,
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

    expect(crashing.stats.crashes).toBeGreaterThanOrEqual(3);
    expect(faultyStore.crashes).toBe(crashing.stats.crashes);
    expect(crashing.stats.firstChunkRecordsBeforeCrash).toBeGreaterThan(20);
    // Coalescing: one transaction per chunk (~90 records), so there are few to cancel.
    expect(conflicts.injected()).toBeGreaterThan(5);
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
