import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LEDGER_KEYS, PENDING_INDEX } from '../../shared/adapters/ledger-table.js';
import { decodeCommand } from '../../shared/domain/commands.js';
import type { TransferRequest } from '../../shared/domain/ledger.js';
import type { StreamRecord } from '../local/kinesis-event.js';
import type { RecordedWrite } from './capture.js';
import type { IndexDefinition } from './item-size.js';
import {
  type BenchLedger,
  CONSUMER_BATCH_SIZE,
  consume,
  createBenchLedger,
  type Endpoints,
  openAccounts,
  readStream,
  submitTransfers,
  transferStatuses,
} from './ledger.js';
import { createNaiveConsumer } from './naive-consumer.js';
import { round } from './stats.js';
import { accountIds, accountSpecs, transfers } from './workload.js';
import { itemBytesOf, perUnit, totalWriteUnits, type UnitsBreakdown, unitsOf } from './write-units.js';

/** The table's one index, as shared/adapters/ledger-table.ts defines it (KEYS_ONLY). */
export const LEDGER_INDEXES: readonly IndexDefinition[] = [
  { name: PENDING_INDEX.name, partition: PENDING_INDEX.partition, sort: PENDING_INDEX.sort, projected: [] },
];

const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${process.pid}`;

/** Transfers applied (POSTED or REJECTED) among `ids`, read back from the table. */
async function appliedCount(
  ledger: BenchLedger,
  ids: readonly string[],
): Promise<{ applied: number; statuses: Record<string, number> }> {
  const statuses = await transferStatuses(ledger, ids);
  return { applied: (statuses.POSTED ?? 0) + (statuses.REJECTED ?? 0), statuses };
}

/**
 * Ingests the transfers, then feeds every stream record to the consumer, phases labelled for the
 * recorder. Returns the stream records.
 */
async function ingestAndConsume(
  ledger: BenchLedger,
  requests: readonly TransferRequest[],
): Promise<StreamRecord[]> {
  if (ledger.recorder !== undefined) ledger.recorder.phase = 'ingest';
  await submitTransfers(ledger, requests);
  const records = await readStream(ledger.clients.kinesis, ledger.config.streamName);
  if (ledger.recorder !== undefined) ledger.recorder.phase = 'consume';
  await consume(ledger.consumer, records, ledger.source);
  if (ledger.recorder !== undefined) ledger.recorder.phase = 'after';
  return records;
}

export interface WriteUnitsOptions {
  readonly accounts: number;
  readonly transfers: number;
  readonly seed: number;
}

export interface CommandComparison {
  readonly command: string;
  readonly requests: number;
  readonly computedUnits: number;
  readonly emulatorReportedUnits: number;
}

export interface WriteUnitsResult {
  readonly method: string;
  readonly transfers: number;
  readonly applied: number;
  readonly statuses: Record<string, number>;
  /** Write units per applied transfer, billed in the region that took it (table + index). */
  readonly perTransfer: number;
  readonly ingest: UnitsBreakdown;
  readonly consume: UnitsBreakdown;
  /** What DynamoDB Local reported with ReturnConsumedCapacity INDEXES, next to the computed figure. */
  readonly emulatorCheck: readonly CommandComparison[];
  /** Mean size of a stream record (the encoded command), bytes. */
  readonly streamRecordBytes: number;
  /** Bytes of item images written per transfer (what a replica receives; storage growth for new items). */
  readonly itemBytesWrittenPerTransfer: number;
  /** Bytes of items created per transfer (entries, the transfer): storage growth. */
  readonly itemBytesCreatedPerTransfer: number;
}

/**
 * `write_units_per_transfer` on a uniform workload: every write the real ingest and the real consumer
 * send is captured by an SDK middleware on the bench's DynamoDB client, with the item images before
 * and after it (read by a separate probe client), and priced by DynamoDB's documented rules.
 */
export async function measureWriteUnits(
  endpoints: Endpoints,
  options: WriteUnitsOptions,
): Promise<WriteUnitsResult> {
  const ledger = await createBenchLedger(endpoints, unique('bench-wcu'), 'images');
  try {
    const ids = accountIds('acct', options.accounts);
    await openAccounts(ledger, accountSpecs(ids));
    const requests = transfers({
      accounts: ids,
      idPrefix: 'wcu',
      count: options.transfers,
      seed: options.seed,
    });
    const records = await ingestAndConsume(ledger, requests);
    const { applied, statuses } = await appliedCount(
      ledger,
      requests.map((r) => r.id),
    );
    const recorder = ledger.recorder;
    if (recorder === undefined || applied === 0) throw new Error('write-unit run applied nothing');
    const ingest = unitsOf(
      recorder.writes,
      recorder.reads,
      LEDGER_KEYS,
      LEDGER_INDEXES,
      (p) => p === 'ingest',
    );
    const consumed = unitsOf(
      recorder.writes,
      recorder.reads,
      LEDGER_KEYS,
      LEDGER_INDEXES,
      (p) => p === 'consume',
    );
    return {
      method:
        'computed from captured requests and item images by the documented rules (DynamoDB Local reports capacity, ' +
        'but not the transactional rate: see emulatorCheck)',
      transfers: requests.length,
      applied,
      statuses,
      perTransfer: (totalWriteUnits(ingest) + totalWriteUnits(consumed)) / applied,
      ingest: perUnit(ingest, applied),
      consume: perUnit(consumed, applied),
      emulatorCheck: compareWithEmulator(
        recorder.writes,
        recorder.reported,
        (p) => p === 'ingest' || p === 'consume',
      ),
      streamRecordBytes: records.reduce((n, r) => n + r.data.byteLength, 0) / Math.max(1, records.length),
      ...bytesPerTransfer(
        itemBytesOf(recorder.writes, (p) => p === 'ingest' || p === 'consume'),
        applied,
      ),
    };
  } finally {
    await ledger.dispose();
  }
}

function compareWithEmulator(
  writes: readonly RecordedWrite[],
  reported: readonly { phase: string; command: string; units: number }[],
  select: (phase: string) => boolean,
): CommandComparison[] {
  const commands = [...new Set(writes.filter((w) => select(w.phase)).map((w) => w.command))].sort();
  return commands.map((command) => {
    const mine = writes.filter((w) => select(w.phase) && w.command === command);
    const computed = unitsOf(mine, [], LEDGER_KEYS, LEDGER_INDEXES);
    const fromEmulator = reported.filter((r) => select(r.phase) && r.command === command);
    return {
      command,
      requests: fromEmulator.length,
      computedUnits: round(totalWriteUnits(computed), 1),
      emulatorReportedUnits: round(
        fromEmulator.reduce((n, r) => n + r.units, 0),
        1,
      ),
    };
  });
}

export interface HotAccountOptions {
  readonly accounts: number;
  readonly transfers: number;
  readonly hotShare: number;
  readonly seed: number;
}

export interface HotAccountResult {
  readonly transfers: number;
  readonly applied: number;
  readonly touchingHot: number;
  /** Put/Update/Delete actions on the hot account's item sent by the consumer, failed ones included. */
  readonly hotItemWrites: number;
  readonly hotItemWritesSucceeded: number;
  readonly perTransfer: number;
  /**
   * Every write action in the hot account's partition, by sort-key kind (`ACCT`, `E#` entries, any
   * other): shows where writes went if balances move to other items (e.g. buckets).
   */
  readonly hotPartitionWrites: Record<string, number>;
}

/**
 * `hot_account_item_writes_per_transfer`: every write action the consumer sends whose key is the hot
 * account's item, counted by the middleware, divided by the transfers applied.
 */
export async function measureHotAccount(
  endpoints: Endpoints,
  options: HotAccountOptions,
): Promise<HotAccountResult> {
  const ledger = await createBenchLedger(endpoints, unique('bench-hot'), 'keys');
  try {
    const hot = 'hot-merchant';
    const ids = accountIds('acct', options.accounts);
    await openAccounts(ledger, accountSpecs([...ids, hot]));
    const requests = transfers({
      accounts: ids,
      idPrefix: 'hot',
      count: options.transfers,
      seed: options.seed,
      hot: { account: hot, share: options.hotShare },
    });
    await ingestAndConsume(ledger, requests);
    const { applied } = await appliedCount(
      ledger,
      requests.map((r) => r.id),
    );
    const recorder = ledger.recorder;
    if (recorder === undefined || applied === 0) throw new Error('hot-account run applied nothing');
    const hotKey = `ACCT#${hot}|ACCT`;
    const hotWrites = recorder.writes.filter(
      (w) => w.phase === 'consume' && w.key === hotKey && w.kind !== 'ConditionCheck',
    );
    const hotPartitionWrites: Record<string, number> = {};
    for (const w of recorder.writes) {
      if (w.phase !== 'consume' || !w.key.startsWith(`ACCT#${hot}|`) || w.kind === 'ConditionCheck') continue;
      const sk = w.key.slice(`ACCT#${hot}|`.length);
      const kind = sk === 'ACCT' ? 'ACCT' : sk.startsWith('E#') ? 'E#' : sk;
      hotPartitionWrites[kind] = (hotPartitionWrites[kind] ?? 0) + 1;
    }
    return {
      transfers: requests.length,
      applied,
      touchingHot: requests.filter((r) => r.debitAccountId === hot || r.creditAccountId === hot).length,
      hotItemWrites: hotWrites.length,
      hotItemWritesSucceeded: hotWrites.filter((w) => w.succeeded).length,
      perTransfer: hotWrites.length / applied,
      hotPartitionWrites,
    };
  } finally {
    await ledger.dispose();
  }
}

/**
 * Per-call latency added in front of DynamoDB Local for the "AWS latency model" runs: in-region
 * round trips as typically seen from Lambda (assumptions, not measurements: single-digit
 * milliseconds for item reads and writes, more for a two-phase transaction).
 */
export const AWS_LATENCY_MODEL_MS: Readonly<Record<string, number>> = {
  GetItemCommand: 4,
  BatchGetItemCommand: 5,
  PutItemCommand: 5,
  UpdateItemCommand: 5,
  TransactWriteItemsCommand: 12,
  QueryCommand: 5,
};

/** Adds a switchable delay before every request of `client`. */
function latencyInjector(client: DynamoDBClient): {
  set(model: Readonly<Record<string, number>> | undefined): void;
} {
  let model: Readonly<Record<string, number>> | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const ms = model?.[context.commandName ?? ''] ?? 0;
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      return next(args);
    },
    { step: 'initialize', name: 'benchLatencyModel' },
  );
  return {
    set: (m) => {
      model = m;
    },
  };
}

export interface ConsumerRun {
  readonly transfers: number;
  readonly handlerMs: number;
  readonly perSecond: number;
  /** CPU of the bench process (consumer side: SDK, decoding, the consumer itself) per transfer. */
  readonly cpuMsPerTransfer: number;
}

export interface SpeedupResult {
  readonly real: ConsumerRun;
  readonly naive: ConsumerRun;
  readonly speedup: number;
  /** The same comparison with AWS_LATENCY_MODEL_MS added to every DynamoDB call (informative). */
  readonly latencyModel: {
    readonly real: ConsumerRun;
    readonly naive: ConsumerRun;
    readonly speedup: number;
  };
  readonly statuses: Record<string, number>;
}

export interface SpeedupOptions {
  readonly accounts: number;
  readonly realTransfers: number;
  readonly naiveTransfers: number;
  readonly seed: number;
}

/**
 * `consumer_speedup_vs_naive`: the real consumer (createConsumer over the real adapters, batches of
 * 100 real stream records) and the naive one, on the same emulator, table and accounts, in alternating
 * halves so that drift (JIT, table growth) falls on both.
 */
export async function measureConsumerSpeedup(
  endpoints: Endpoints,
  options: SpeedupOptions,
): Promise<SpeedupResult> {
  const ledger = await createBenchLedger(endpoints, unique('bench-tput'), 'none');
  try {
    const latency = latencyInjector(ledger.clients.dynamodb);
    const ids = accountIds('acct', options.accounts);
    await openAccounts(ledger, accountSpecs(ids));
    const sets = {
      warmReal: options.realTransfers / 6,
      warmNaive: options.naiveTransfers / 6,
      real: options.realTransfers,
      naive: options.naiveTransfers,
      modelReal: options.realTransfers / 2,
      modelNaive: options.naiveTransfers / 2,
    };
    const all = Object.entries(sets).flatMap(([name, count], i) =>
      transfers({
        accounts: ids,
        idPrefix: name,
        count: Math.max(1, Math.round(count)),
        seed: options.seed + i,
      }),
    );
    await submitTransfers(ledger, all);
    const bySet = groupBySet(await readStream(ledger.clients.kinesis, ledger.config.streamName));
    const naive = createNaiveConsumer(
      ledger.clients.dynamodb,
      ledger.config.tableName,
      ledger.config.ledgerRegion,
    );
    const run = async (handler: typeof naive, records: readonly StreamRecord[]): Promise<ConsumerRun> => {
      const cpu = process.cpuUsage();
      const result = await consume(handler, records, ledger.source);
      const used = process.cpuUsage(cpu);
      return {
        transfers: records.length,
        handlerMs: result.handlerMs,
        perSecond: (records.length / result.handlerMs) * 1000,
        cpuMsPerTransfer: (used.user + used.system) / 1000 / records.length,
      };
    };
    await run(ledger.consumer, bySet.get('warmReal') ?? []);
    await run(naive, bySet.get('warmNaive') ?? []);
    const real = await alternate(
      (records) => run(ledger.consumer, records),
      (records) => run(naive, records),
      bySet.get('real') ?? [],
      bySet.get('naive') ?? [],
    );
    latency.set(AWS_LATENCY_MODEL_MS);
    const modelled = await alternate(
      (records) => run(ledger.consumer, records),
      (records) => run(naive, records),
      bySet.get('modelReal') ?? [],
      bySet.get('modelNaive') ?? [],
    );
    latency.set(undefined);
    const { statuses } = await appliedCount(
      ledger,
      all.map((t) => t.id),
    );
    return {
      real: real.a,
      naive: real.b,
      speedup: real.a.perSecond / real.b.perSecond,
      latencyModel: {
        real: modelled.a,
        naive: modelled.b,
        speedup: modelled.a.perSecond / modelled.b.perSecond,
      },
      statuses,
    };
  } finally {
    await ledger.dispose();
  }
}

/** Runs a and b on their records in two alternating halves each (a, b, a, b) and sums each side. */
async function alternate(
  runA: (records: readonly StreamRecord[]) => Promise<ConsumerRun>,
  runB: (records: readonly StreamRecord[]) => Promise<ConsumerRun>,
  a: readonly StreamRecord[],
  b: readonly StreamRecord[],
): Promise<{ a: ConsumerRun; b: ConsumerRun }> {
  // Halves cut at a batch boundary when there are at least two batches.
  const half = (records: readonly StreamRecord[]) => {
    const cut =
      records.length >= 2 * CONSUMER_BATCH_SIZE
        ? Math.ceil(records.length / (2 * CONSUMER_BATCH_SIZE)) * CONSUMER_BATCH_SIZE
        : Math.ceil(records.length / 2);
    return [records.slice(0, cut), records.slice(cut)] as const;
  };
  const [a1, a2] = half(a);
  const [b1, b2] = half(b);
  const ra1 = await runA(a1);
  const rb1 = await runB(b1);
  const ra2 = await runA(a2);
  const rb2 = await runB(b2);
  return { a: sumRuns(ra1, ra2), b: sumRuns(rb1, rb2) };
}

function sumRuns(x: ConsumerRun, y: ConsumerRun): ConsumerRun {
  const transfersDone = x.transfers + y.transfers;
  const handlerMs = x.handlerMs + y.handlerMs;
  return {
    transfers: transfersDone,
    handlerMs,
    perSecond: (transfersDone / handlerMs) * 1000,
    cpuMsPerTransfer: (x.cpuMsPerTransfer * x.transfers + y.cpuMsPerTransfer * y.transfers) / transfersDone,
  };
}

/** Stream records grouped by the workload set their transfer id starts with (`<set>-<n>`). */
function groupBySet(records: readonly StreamRecord[]): Map<string, StreamRecord[]> {
  const groups = new Map<string, StreamRecord[]>();
  for (const record of records) {
    const decoded = decodeCommand(record.data);
    if (!decoded.ok || decoded.command.type !== 'transfer') continue;
    const set = decoded.command.transfer.id.split('-')[0] ?? '';
    const list = groups.get(set) ?? [];
    list.push(record);
    groups.set(set, list);
  }
  return groups;
}

function bytesPerTransfer(
  bytes: { readonly written: number; readonly created: number },
  applied: number,
): { itemBytesWrittenPerTransfer: number; itemBytesCreatedPerTransfer: number } {
  return {
    itemBytesWrittenPerTransfer: bytes.written / applied,
    itemBytesCreatedPerTransfer: bytes.created / applied,
  };
}
