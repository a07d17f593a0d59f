import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { LedgerService, type StreamRecord } from '../../shared/services/ledger-service.js';
import { createIsolatedLedger } from '../helpers/emulators.js';
import {
  MODEL_ACCOUNTS,
  MODEL_REGION,
  openingCommands,
  opsArbitrary,
  project,
  projectModel,
  submissionFor,
} from '../helpers/ledger-driver.js';
import { LedgerModel, TICK_MS } from '../helpers/ledger-model.js';
import { asRecords } from '../helpers/ledger-records.js';

/**
 * The real consumer (LedgerService over DynamoDB Local) ends in the reference model's state after
 * random sequences of transfers, holds, captures, voids, expiries, reversals and freezes, with
 * records redelivered along the way.
 */
describe('the real consumer against the reference model', () => {
  it('ends in the model state (property, on DynamoDB Local)', async () => {
    await fc.assert(
      fc.asyncProperty(
        opsArbitrary({ ticks: true, reversals: true, maxLength: 30 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (ops, seed) => {
          const { config, clients, cleanup } = await createIsolatedLedger('model', { shards: 1 });
          try {
            const model = new LedgerModel();
            for (const [id, limit] of Object.entries(MODEL_ACCOUNTS)) model.open(id, limit);
            let clock = model.now;
            const store = new DynamoLedgerStore(clients.dynamodb, config.tableName);
            const service = new LedgerService(store, store, MODEL_REGION, () => new Date(clock));
            await service.handleBatch(asRecords(openingCommands(new Date(clock).toISOString())));
            const known = new Set<string>();
            let previous: StreamRecord[] = [];
            for (const [i, op] of ops.entries()) {
              clock = model.now + (op.kind === 'tick' ? TICK_MS : 0);
              const at = new Date(clock).toISOString();
              const s = submissionFor(op, model, known, at);
              if (s.accepted !== undefined) {
                await store.recordAccepted(s.accepted.request, s.accepted.fingerprint, at);
                known.add(s.accepted.request.id);
              }
              // Every few operations the stream redelivers the previous records before the new ones.
              const records = asRecords(s.commands);
              const redelivered = (seed + i) % 4 === 0 ? previous : [];
              const { failedFrom } = await service.handleBatch([...redelivered, ...records]);
              expect(failedFrom).toBeUndefined();
              previous = records;
              model.apply(op);
            }
            const state = await store.readState({ accounts: Object.keys(MODEL_ACCOUNTS), transfers: known });
            expect(project(state)).toEqual(projectModel(model));
          } finally {
            await cleanup();
          }
        },
      ),
      { numRuns: 8 },
    );
  }, 180_000);
});
