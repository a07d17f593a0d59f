import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../shared/adapters/clients.js';
import { KinesisCommandQueue } from '../../shared/adapters/kinesis-command-queue.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { decodeCommand, transferCommand } from '../../shared/domain/commands.js';
import { createIsolatedLedger } from '../helpers/emulators.js';
import { refusePutRecords } from '../helpers/faults.js';
import { readAllRecords } from '../helpers/stream.js';

let config: RuntimeConfig;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ config, cleanup } = await createIsolatedLedger('queue'));
});
afterAll(async () => cleanup());

const command = (id: string, debit: string) =>
  transferCommand(
    { id, debitAccountId: debit, creditAccountId: 'z', amount: 1n, currency: 'USD' },
    'fingerprint-0123456789',
    '2026-01-01T00:00:00.000Z',
  );

function decodedIds(records: Awaited<ReturnType<typeof readAllRecords>>): string[] {
  return records.flatMap((r) => {
    const d = decodeCommand(Buffer.from(r.kinesis.data, 'base64'));
    return d.ok && d.command.type === 'transfer' ? [d.command.transfer.id] : [];
  });
}

describe('KinesisCommandQueue against kinesis-mock', () => {
  it('puts a batch in one call, partitioned by debit account, in order per account', async () => {
    const { kinesis } = createClients(config);
    const faults = refusePutRecords(kinesis, () => false);
    const queue = new KinesisCommandQueue(kinesis, config.streamName);
    const commands = Array.from({ length: 40 }, (_, i) => command(`q1-${i}`, `acct-${i % 4}`));
    const outcomes = await queue.enqueue(commands);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(faults.calls()).toBe(1);
    const records = (await readAllRecords(kinesis, config.streamName)).filter((r) =>
      r.kinesis.partitionKey.startsWith('acct-'),
    );
    for (let k = 0; k < 4; k++) {
      const mine = records.filter((r) => r.kinesis.partitionKey === `acct-${k}`);
      expect(decodedIds(mine)).toEqual(commands.filter((_, i) => i % 4 === k).map((c) => c.transfer.id));
    }
    kinesis.destroy();
  });

  it('resends only the refused entries, with bounded attempts, and writes each record once', async () => {
    const { kinesis } = createClients(config);
    const sentSizes: number[] = [];
    kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutRecordsCommand')
          sentSizes.push((args.input as { Records: unknown[] }).Records.length);
        return next(args);
      },
      { step: 'initialize', name: 'countEntries', priority: 'high' },
    );
    refusePutRecords(kinesis, (entry, attempt) => {
      // First attempt refuses every third record; later attempts accept everything.
      return attempt === 1 && Number(new TextDecoder().decode(entry.Data).match(/q2-(\d+)/)?.[1]) % 3 === 0;
    });
    const queue = new KinesisCommandQueue(kinesis, config.streamName, { sleep: async () => {} });
    const commands = Array.from({ length: 30 }, (_, i) => command(`q2-${i}`, `resend-${i}`));
    const outcomes = await queue.enqueue(commands);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(sentSizes).toEqual([30, 10]);
    const ids = decodedIds(
      (await readAllRecords(kinesis, config.streamName)).filter((r) =>
        r.kinesis.partitionKey.startsWith('resend-'),
      ),
    );
    expect(ids.sort()).toEqual(commands.map((c) => c.transfer.id).sort());
    kinesis.destroy();
  });

  it('reports entries still refused after the last attempt, without writing them', async () => {
    const { kinesis } = createClients(config);
    const faults = refusePutRecords(kinesis, (entry) =>
      new TextDecoder().decode(entry.Data).includes('q3-0'),
    );
    const queue = new KinesisCommandQueue(kinesis, config.streamName, {
      attemptsMax: 3,
      sleep: async () => {},
    });
    const outcomes = await queue.enqueue([command('q3-0', 'refused-0'), command('q3-1', 'refused-1')]);
    expect(outcomes[0]).toEqual({ ok: false, errorCode: 'ProvisionedThroughputExceededException' });
    expect(outcomes[1]).toEqual({ ok: true });
    expect(faults.calls()).toBe(3);
    const ids = decodedIds(
      (await readAllRecords(kinesis, config.streamName)).filter((r) =>
        r.kinesis.partitionKey.startsWith('refused-'),
      ),
    );
    expect(ids).toEqual(['q3-1']);
    kinesis.destroy();
  });

  it('never resends a refused record behind a later record of the same account written in the same call', async () => {
    const { kinesis } = createClients(config);
    // First call refuses o-1 (account "ordered") and o-3 (account "alone"); o-2 ("ordered") is written.
    refusePutRecords(
      kinesis,
      (entry, attempt) => attempt === 1 && /"o-(1|3)"/.test(new TextDecoder().decode(entry.Data)),
    );
    const queue = new KinesisCommandQueue(kinesis, config.streamName, { sleep: async () => {} });
    const outcomes = await queue.enqueue([
      command('o-1', 'ordered'),
      command('o-2', 'ordered'),
      command('o-3', 'alone'),
    ]);
    expect(outcomes).toEqual([
      { ok: false, errorCode: 'ProvisionedThroughputExceededException' },
      { ok: true },
      { ok: true },
    ]);
    const all = await readAllRecords(kinesis, config.streamName);
    expect(decodedIds(all.filter((r) => r.kinesis.partitionKey === 'ordered'))).toEqual(['o-2']);
    expect(decodedIds(all.filter((r) => r.kinesis.partitionKey === 'alone'))).toEqual(['o-3']);
    kinesis.destroy();
  });
});
