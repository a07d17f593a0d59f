import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { buildConsumerHandler, type ConsumerHandler } from '../../functions/ledger-consumer/consumer.js';
import { type AwsClients, createClients } from '../../shared/adapters/clients.js';
import { accountKey, transferKey } from '../../shared/adapters/dynamo-codec.js';
import { LEDGER_KEYS } from '../../shared/adapters/ledger-table.js';
import { wireRegions } from '../../shared/adapters/regions.js';
import type { RuntimeConfig } from '../../shared/config.js';
import { encodeCommand, openAccountCommand } from '../../shared/domain/commands.js';
import { type AccountSpec, accountFingerprint, type TransferRequest } from '../../shared/domain/ledger.js';
import { IngestService } from '../../shared/services/ingest-service.js';
import type { EventSource, StreamRecord } from '../local/kinesis-event.js';
import { ensureStream, ensureTable } from '../local/provision.js';
import { localRegionConfig } from '../local/two-regions.js';
import { DynamoRecorder } from './capture.js';
import type { Item } from './item-size.js';
import { CONSUMER_BATCH_SIZE, consume, type Endpoints, readStream } from './ledger.js';
import { LEDGER_INDEXES } from './ledger-figures.js';
import { accountIds, accountSpecs, BENCH_CURRENCY, prng, transfers } from './workload.js';
import { itemBytesOf, perUnit, type UnitsBreakdown, unitsOf } from './write-units.js';

/**
 * `cross_region_write_units_per_transfer` (informative) and `cost_inputs.cross_region`: what a transfer between accounts homed in different regions
 * costs in DynamoDB units and stream records, in each region. Two regions on the same emulators
 * (a table and a one-shard stream each), wired as on AWS (LEDGER_REGIONS, wireRegions, the consumer
 * of buildConsumerHandler with its CommandRouter); every DynamoDB request of both regions' clients is
 * captured by the `units` step's recorder, one recorder per table, so each unit is billed where the
 * table it hits lives.
 */

/** The two regions, as the local two-region stack names them. */
const REGION_A = 'us-east-2';
const REGION_B = 'ca-central-1';
/** Rounds of A -> B -> A consumption before the run gives up on transfers still DEBITED. */
const ROUNDS_MAX = 5;
const KEYS_PER_BATCH_MAX = 100;
const ITEMS_PER_BATCH_WRITE_MAX = 25;
const BATCH_RETRIES_MAX = 10;
/** Transfers per ingest call (IngestService.submitTransfers: one PutRecords each). */
const INGEST_CHUNK = 100;

export interface CrossRegionOptions {
  /** Accounts homed in each region. */
  readonly accounts: number;
  readonly transfers: number;
  readonly seed: number;
}

/** One region's share of a transfer's work, per transfer. */
export interface RegionUsage {
  readonly region: string;
  readonly tableWriteUnits: number;
  readonly indexWriteUnits: number;
  /** Standard units of this region's successful item changes: billed as rWRU by the other replica. */
  readonly replicatedWriteUnits: number;
  readonly readUnits: number;
  readonly itemWrites: number;
  readonly streamRecords: number;
  readonly streamRecordBytes: number;
  readonly consumerInvocations: number;
  readonly itemBytesWritten: number;
  readonly itemBytesCreated: number;
}

export interface CrossRegionResult {
  readonly method: string;
  readonly transfers: number;
  readonly statuses: Record<string, number>;
  readonly rounds: number;
  /** Write units per transfer, both regions (table + index, as `write_units_per_transfer`). */
  readonly perTransfer: number;
  /** The debit account's home: the ingest, step 1 (debit) and step 3 (result). */
  readonly debitHome: RegionUsage;
  /** The credit account's home: step 2 (credit leg). */
  readonly creditHome: RegionUsage;
  /** For comparison: a transfer between two accounts homed in the same region of this two-region deployment. */
  readonly sameRegion: RegionUsage & {
    readonly transfers: number;
    readonly statuses: Record<string, number>;
  };
}

interface Region {
  readonly name: string;
  readonly config: RuntimeConfig;
  readonly recorder: DynamoRecorder;
  readonly consumer: ConsumerHandler;
  readonly source: EventSource;
  readonly kinesis: AwsClients['kinesis'];
  /** Stream records already fed to the consumer, by sequence number. */
  readonly seen: Set<string>;
  /** Stream records fed to the consumer, by recorder phase. */
  readonly consumed: Map<string, StreamUse>;
  invocations: number;
}

export async function measureCrossRegion(
  endpoints: Endpoints,
  options: CrossRegionOptions,
): Promise<CrossRegionResult> {
  const suffix = `${Date.now().toString(36)}-${process.pid}`;
  const names = (region: string) => ({
    tableName: `bench-xr-${region}-${suffix}`,
    streamName: `bench-xr-${region}-${suffix}`,
  });
  const configOf = (region: string) => localRegionConfig(region, [REGION_A, REGION_B], names, endpoints);
  const configA = configOf(REGION_A);
  // The bench's own clients, one per region: kinesis-mock keeps streams per region (DynamoDB Local
  // runs with -sharedDb, so one probe client reads both tables).
  const own = new Map([REGION_A, REGION_B].map((r) => [r, createClients(configOf(r))]));
  const ownOf = (region: string) => own.get(region) as AwsClients;
  const probe = ownOf(REGION_A).dynamodb;
  // One recorder per table: a request is billed by the region whose table it hits.
  const recorders = new Map([
    [REGION_A, new DynamoRecorder({ keys: LEDGER_KEYS, probe })],
    [REGION_B, new DynamoRecorder({ keys: LEDGER_KEYS, probe })],
  ]);
  const recorderOf = (region: string) => recorders.get(region) as DynamoRecorder;
  const onClients = (target: string, clients: AwsClients) => recorderOf(target).attach(clients.dynamodb);
  const destroy: (() => void)[] = [];
  try {
    const regions = new Map<string, Region>();
    for (const name of [REGION_A, REGION_B]) {
      const config = name === REGION_A ? configA : configOf(name);
      await ensureTable(probe, config.tableName);
      const kinesis = ownOf(name).kinesis;
      const stream = await ensureStream(kinesis, config.streamName, 1);
      regions.set(name, {
        name,
        config,
        recorder: recorderOf(name),
        consumer: buildConsumerHandler(config, {
          onClients,
          logger: new Logger({ serviceName: 'ledger-consumer', logLevel: 'ERROR' }),
          metrics: new Metrics({ namespace: 'EdgeLedgerBench', serviceName: 'ledger-consumer' }),
        }),
        source: {
          shardId: 'shardId-000000000000',
          region: name,
          streamArn: stream.streamArn,
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/bench-consumer',
        },
        kinesis,
        seen: new Set(),
        consumed: new Map(),
        invocations: 0,
      });
    }
    const a = regions.get(REGION_A) as Region;
    const b = regions.get(REGION_B) as Region;
    // The ingest of the debit accounts' home, as buildIngestApp wires it.
    const wired = wireRegions(configA, { onClients });
    destroy.push(wired.destroy);
    const ingest = new IngestService({
      reader: wired.store,
      recorder: wired.store,
      queue: wired.queue,
      region: REGION_A,
      regions: wired.regions,
    });
    // The units step's account names and workload, so that the same-region figures compare with it.
    const homedA = accountIds('acct', options.accounts);
    const homedB = accountIds('bcct', options.accounts);
    await openAccounts(a, accountSpecs(homedA));
    await openAccounts(b, accountSpecs(homedB));
    // Replication of the account openings (not measured): A's replica must know where B's accounts live.
    await copyItems(probe, b.config.tableName, a.config.tableName, homedB);
    await copyItems(probe, a.config.tableName, b.config.tableName, homedA);

    // First, for comparison, transfers between two accounts homed in A (the units step's workload).
    const same = transfers({
      accounts: homedA,
      idPrefix: 'wcu',
      count: options.transfers,
      seed: options.seed,
    });
    setPhase(recorders, 'sr');
    await submit(ingest, same);
    await drain(a);
    setPhase(recorders, 'after');
    const sameStatuses = await transferStatuses(probe, a.config.tableName, same);
    if ((sameStatuses.POSTED ?? 0) !== same.length)
      throw new Error(`same-region run: not every transfer POSTED: ${JSON.stringify(sameStatuses)}`);
    const srInvocations = a.invocations;
    a.invocations = 0;

    // Then every transfer from an account homed in A to one homed in B.
    const cross = pairs(homedA, homedB, 'xr', options.transfers, options.seed + 1);
    setPhase(recorders, 'xr');
    await submit(ingest, cross);
    const rounds = await settle(a, b, cross.length);
    setPhase(recorders, 'after');
    const statuses = await transferStatuses(probe, a.config.tableName, cross);
    if ((statuses.POSTED ?? 0) !== cross.length)
      throw new Error(`cross-region run: not every transfer POSTED: ${JSON.stringify(statuses)}`);

    const n = cross.length;
    const usageOf = (r: Region, phase: string, stream: StreamUse, invocations: number, count: number) =>
      regionUsage(
        r,
        unitsOf(r.recorder.writes, r.recorder.reads, LEDGER_KEYS, LEDGER_INDEXES, (p) => p === phase),
        phase,
        stream,
        invocations,
        count,
      );
    const debitHome = usageOf(a, 'xr', streamUse(a, 'xr'), a.invocations, n);
    const creditHome = usageOf(b, 'xr', streamUse(b, 'xr'), b.invocations, n);
    return {
      method:
        'two regions (tables and one-shard streams) on one emulator, wired as on AWS; every DynamoDB request captured per table and priced by the documented rules, as the units step',
      transfers: n,
      statuses,
      rounds,
      perTransfer:
        debitHome.tableWriteUnits +
        debitHome.indexWriteUnits +
        creditHome.tableWriteUnits +
        creditHome.indexWriteUnits,
      debitHome,
      creditHome,
      sameRegion: {
        ...usageOf(a, 'sr', streamUse(a, 'sr'), srInvocations, same.length),
        transfers: same.length,
        statuses: sameStatuses,
      },
    };
  } finally {
    for (const d of destroy) d();
    await Promise.allSettled(
      [REGION_A, REGION_B].flatMap((region) => [
        probe.send(new DeleteTableCommand({ TableName: names(region).tableName })),
        ownOf(region).kinesis.send(
          new DeleteStreamCommand({ StreamName: names(region).streamName, EnforceConsumerDeletion: true }),
        ),
      ]),
    );
    for (const c of own.values()) {
      c.dynamodb.destroy();
      c.kinesis.destroy();
    }
  }
}

function setPhase(recorders: ReadonlyMap<string, DynamoRecorder>, phase: string): void {
  for (const r of recorders.values()) r.phase = phase;
}

/** Transfers from a random account of `debits` to a random account of `credits`. */
function pairs(
  debits: readonly string[],
  credits: readonly string[],
  idPrefix: string,
  count: number,
  seed: number,
): TransferRequest[] {
  const random = prng(seed);
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)] as string;
  return Array.from({ length: count }, (_, i) => ({
    id: `${idPrefix}-${String(i).padStart(7, '0')}`,
    debitAccountId: pick(debits),
    creditAccountId: pick(credits),
    amount: BigInt(1 + Math.floor(random() * 10_000)),
    currency: BENCH_CURRENCY,
  }));
}

/** Opens accounts homed in `region` through its own consumer (open_account records, batches of 100). */
async function openAccounts(region: Region, specs: readonly AccountSpec[]): Promise<void> {
  const at = new Date().toISOString();
  const records: StreamRecord[] = specs.map((spec, i) => ({
    sequenceNumber: `9${String(i).padStart(20, '0')}`,
    partitionKey: spec.id,
    data: encodeCommand(openAccountCommand(spec, region.name, accountFingerprint(spec), at)),
    arrivedAtMs: Date.now(),
  }));
  await consume(region.consumer, records, region.source);
}

async function submit(ingest: IngestService, requests: readonly TransferRequest[]): Promise<void> {
  for (let start = 0; start < requests.length; start += INGEST_CHUNK) {
    const outcomes = await ingest.submitTransfers(requests.slice(start, start + INGEST_CHUNK));
    const bad = outcomes.find((o) => o.kind !== 'accepted');
    if (bad !== undefined) throw new Error(`ingest did not accept a transfer: ${bad.kind}`);
  }
}

interface StreamUse {
  readonly records: number;
  readonly bytes: number;
}

function streamUse(region: Region, phase: string): StreamUse {
  return region.consumed.get(phase) ?? { records: 0, bytes: 0 };
}

/** Feeds the region's consumer every stream record it has not seen yet; returns how many. */
async function drain(region: Region): Promise<number> {
  const fresh = (await readStream(region.kinesis, region.config.streamName)).filter(
    (r) => !region.seen.has(r.sequenceNumber),
  );
  if (fresh.length === 0) return 0;
  const result = await consume(region.consumer, fresh, region.source, CONSUMER_BATCH_SIZE);
  region.invocations += result.invocations;
  for (const r of fresh) region.seen.add(r.sequenceNumber);
  const phase = region.recorder.phase;
  const prev = streamUse(region, phase);
  region.consumed.set(phase, {
    records: prev.records + fresh.length,
    bytes: prev.bytes + fresh.reduce((n, r) => n + r.data.byteLength, 0),
  });
  return fresh.length;
}

/** A's stream (transfers), B's (credit legs), A's again (results), until both streams are quiet. */
async function settle(a: Region, b: Region, transfers: number): Promise<number> {
  for (let round = 1; round <= ROUNDS_MAX; round++) {
    const fed = (await drain(a)) + (await drain(b));
    if (fed === 0) return round - 1;
  }
  throw new Error(`cross-region run: ${transfers} transfers not settled after ${ROUNDS_MAX} rounds`);
}

function regionUsage(
  region: Region,
  units: UnitsBreakdown,
  phase: string,
  stream: StreamUse,
  invocations: number,
  transfers: number,
): RegionUsage {
  const per = perUnit(units, transfers);
  const bytes = itemBytesOf(region.recorder.writes, (p) => p === phase);
  return {
    region: region.name,
    tableWriteUnits: per.tableWriteUnits,
    indexWriteUnits: per.indexWriteUnits,
    replicatedWriteUnits: per.replicatedWriteUnits,
    readUnits: per.readUnits,
    itemWrites: per.itemWrites,
    streamRecords: stream.records / transfers,
    streamRecordBytes: stream.records === 0 ? 0 : stream.bytes / stream.records,
    consumerInvocations: invocations / transfers,
    itemBytesWritten: bytes.written / transfers,
    itemBytesCreated: bytes.created / transfers,
  };
}

/** Copies the account items of `ids` from one table to the other, as replication would (uninstrumented). */
async function copyItems(
  probe: DynamoDBClient,
  from: string,
  to: string,
  ids: readonly string[],
): Promise<void> {
  for (let start = 0; start < ids.length; start += KEYS_PER_BATCH_MAX) {
    const items = await getItems(probe, from, ids.slice(start, start + KEYS_PER_BATCH_MAX).map(accountKey));
    for (let i = 0; i < items.length; i += ITEMS_PER_BATCH_WRITE_MAX) {
      let pending = items.slice(i, i + ITEMS_PER_BATCH_WRITE_MAX).map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= BATCH_RETRIES_MAX) throw new Error(`copy to ${to} left unprocessed items`);
        const out = await probe.send(new BatchWriteItemCommand({ RequestItems: { [to]: pending } }));
        pending = (out.UnprocessedItems?.[to] ?? []).flatMap((r) =>
          r.PutRequest?.Item === undefined ? [] : [{ PutRequest: { Item: r.PutRequest.Item } }],
        );
      }
    }
  }
}

/** Strongly consistent reads of up to 100 keys of one table. */
async function getItems(probe: DynamoDBClient, table: string, keys: readonly Item[]): Promise<Item[]> {
  const found: Item[] = [];
  let pending = [...keys];
  for (let round = 0; pending.length > 0; round++) {
    if (round >= BATCH_RETRIES_MAX) throw new Error(`read of ${table} left unprocessed keys`);
    const out = await probe.send(
      new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
    );
    found.push(...(out.Responses?.[table] ?? []));
    pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  return found;
}

/** Counts of the transfers' statuses in one region's table. */
async function transferStatuses(
  probe: DynamoDBClient,
  table: string,
  requests: readonly TransferRequest[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let start = 0; start < requests.length; start += KEYS_PER_BATCH_MAX) {
    const keys = requests.slice(start, start + KEYS_PER_BATCH_MAX).map((r) => transferKey(r.id));
    for (const item of await getItems(probe, table, keys)) {
      const status = item.status?.S ?? 'UNKNOWN';
      counts[status] = (counts[status] ?? 0) + 1;
    }
  }
  return counts;
}
