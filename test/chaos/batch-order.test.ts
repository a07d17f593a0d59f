import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer } from '../../functions/ledger-consumer/consumer.js';
import { createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { KinesisCommandQueue } from '../../shared/adapters/kinesis-command-queue.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import { LedgerService } from '../../shared/services/ledger-service.js';
import { createIsolatedLedger, type IsolatedLedger } from '../helpers/emulators.js';
import { refusePutRecords } from '../helpers/faults.js';
import { eventOf, readAllRecords } from '../helpers/stream.js';
import { openAccounts } from './ledger-setup.js';

/**
 * Ordering per account when Kinesis refuses part of a PutRecords (was a bug, see docs/RELIABILITY.md).
 *
 * docs/ARCHITECTURE.md promises that one account's debits are applied "in the order they were
 * accepted". A batch (POST /v1/transfers/batch) is enqueued in one PutRecords call. When Kinesis
 * refuses an entry (ProvisionedThroughputExceeded, per entry) and a later entry of the same
 * partition key was written in that call, resending the refused one would put it after the later
 * one. KinesisCommandQueue then does not resend it: that transfer answers 503, and the client's
 * retry lands after the later one, so the stream order of an account's transfers is the order of
 * their 202 answers. Whatever the queue chooses, the test asserts exactly that: no transfer of one
 * account is applied out of the order of its 202s (one answered 503 is absent, or after).
 */
let ledger: IsolatedLedger;
beforeAll(async () => {
  ledger = await createIsolatedLedger('batch-order', { shards: 1 });
});
afterAll(() => ledger?.cleanup());

const transferIdOf = (data: Uint8Array | undefined): string =>
  (JSON.parse(Buffer.from(data ?? new Uint8Array()).toString('utf8')) as { transfer?: { id?: string } })
    .transfer?.id ?? '';

describe('a batch under partial PutRecords refusal', () => {
  it('keeps one account’s transfers in the order of their 202s in the stream and in the ledger', async () => {
    const { config } = ledger;
    const region = config.ledgerRegion;
    const clients = createClients(config);
    const store = new DynamoLedgerStore(clients.dynamodb, config.tableName);
    // alice may go 100 below zero: the first of two 100 debits posts, the second must be rejected.
    await openAccounts(new LedgerService(store, store, region), region, [
      { id: 'bo-alice', overdraftLimit: 100n },
      { id: 'bo-bob', overdraftLimit: 0n },
      { id: 'bo-carol', overdraftLimit: 0n },
    ]);
    // Kinesis refuses the first entry of the first call only (throttled shard for a moment).
    refusePutRecords(clients.kinesis, (entry, call) => call === 1 && transferIdOf(entry.Data) === 'bo-1');
    const ingest = new IngestService({
      reader: store,
      recorder: store,
      queue: new KinesisCommandQueue(clients.kinesis, config.streamName, { sleep: async () => {} }),
      region,
    });
    const batch = [
      { id: 'bo-1', debitAccountId: 'bo-alice', creditAccountId: 'bo-bob', amount: 100n, currency: 'USD' },
      { id: 'bo-2', debitAccountId: 'bo-alice', creditAccountId: 'bo-carol', amount: 100n, currency: 'USD' },
    ];
    // The order of the 202 answers: the batch's accepted items, then the client's retries of the
    // items answered 503 (as a client does on 503 with Retry-After).
    const answered202: string[] = [];
    const outcomes = await ingest.submitTransfers(batch);
    expect(outcomes.map((o) => o.kind).filter((k) => k !== 'accepted' && k !== 'unavailable')).toEqual([]);
    const retry = batch.filter((_, i) => outcomes[i]?.kind === 'unavailable');
    for (const [i, o] of outcomes.entries()) if (o.kind === 'accepted') answered202.push(batch[i]?.id ?? '');
    if (retry.length > 0) {
      const retried = await ingest.submitTransfers(retry);
      expect(retried.map((o) => o.kind).filter((k) => k !== 'accepted' && k !== 'existing')).toEqual([]);
      answered202.push(...retry.map((t) => t.id));
    }
    expect([...answered202].sort()).toEqual(['bo-1', 'bo-2']);

    const records = await readAllRecords(clients.kinesis, config.streamName, config.awsRegion);
    const consumer = createConsumer(new LedgerService(store, store, region), {
      logger: new Logger({ serviceName: 'batch-order', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'batch-order' }),
    });
    await consumer(eventOf(records));
    const first = await store.getTransfer('bo-1');
    const second = await store.getTransfer('bo-2');
    clients.dynamodb.destroy();
    clients.kinesis.destroy();

    // The stream (first occurrence of each transfer) and the ledger follow the order of the 202s:
    // the first one answered 202 posts, the second finds alice at her limit.
    const streamOrder = [
      ...new Set(
        records.map((r) => transferIdOf(Buffer.from(r.kinesis.data, 'base64'))).filter((id) => id !== ''),
      ),
    ];
    const byId = new Map([first, second].map((t) => [t?.id, t]));
    expect({
      streamOrder,
      outcomes: answered202.map((id) => {
        const t = byId.get(id);
        return `${t?.id} ${t?.status} ${t?.reason ?? ''}`.trim();
      }),
    }).toEqual({
      streamOrder: answered202,
      outcomes: [`${answered202[0]} POSTED`, `${answered202[1]} REJECTED insufficient_funds`],
    });
  });
});
