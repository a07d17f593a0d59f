import type { RegionPrices } from './prices.js';

/**
 * The cost of one million transfers on AWS, two regions, as plain arithmetic over per-transfer usage
 * (measured by `npm run bench`, or defaults) and the price table. Pure: no I/O.
 *
 * Conventions: a month is 730 hours (AWS's own); GB is 2^30 bytes; free tiers are ignored; monthly
 * fixed costs (stream-hours, metrics, alarms, dashboards, keys, the reconciler) are spread over the
 * transfers of a month at the given rate.
 */

export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
export const GB = 1024 ** 3;
const KB = 1024;
/** The transfer stream keeps records 7 days: 6 of them are "extended retention". */
export const EXTENDED_RETENTION_DAYS = 6;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

export interface WriteUnitsPerTransfer {
  /** Base table write units in the region that takes the transfer (transactional factor included). */
  readonly ingestTable: number;
  readonly ingestIndex: number;
  readonly consumeTable: number;
  readonly consumeIndex: number;
  /** Standard units of the item changes, billed as rWRU by the other region's replica. */
  readonly replicatedTable: number;
}

/** One region's share of a transfer's pipeline work: its stream records, consumer work and table writes there. */
export interface RegionWork {
  /** Stream records (each one consumer record) per transfer in this region. */
  readonly streamRecords: number;
  readonly streamRecordBytes: number;
  /** Base table write units in this region's replica (transactional factor included). */
  readonly tableWriteUnits: number;
  readonly indexWriteUnits: number;
  /** Standard units of this region's item changes, billed as rWRU by the other region's replica. */
  readonly replicatedWriteUnits: number;
  readonly readUnits: number;
  /** Item bytes written here (shipped to the other region) and created here (stored in both). */
  readonly itemBytesWritten: number;
  readonly itemBytesCreated: number;
}

/**
 * A transfer between accounts homed in different regions (docs/MULTI-REGION.md): the ingest, the
 * debit and the result at the debit account's home (the region that takes it), the credit leg at
 * the credit account's home. Everything per transfer, ingest included.
 */
export interface CrossRegionUsage {
  readonly debitHome: RegionWork;
  readonly creditHome: RegionWork;
}

export interface Usage {
  /** POST /v1/transfers per transfer (1), and client GETs of its status (default 0). */
  readonly postsPerTransfer: number;
  readonly statusReadsPerTransfer: number;
  /** Bytes of an API response (data transfer out). */
  readonly responseBytes: number;
  readonly ingest: {
    readonly memoryMb: number;
    readonly msPerRequest: number;
    readonly logBytesPerRequest: number;
  };
  readonly consumer: {
    readonly memoryMb: number;
    readonly msPerRecord: number;
    readonly msPerInvocation: number;
    readonly recordsPerBatch: number;
    readonly logBytesPerInvocation: number;
  };
  /** Lambda's own JSON log lines (platform.start, platform.report...) per invocation. */
  readonly platformLogBytesPerInvocation: number;
  readonly apiAccessLogBytesPerRequest: number;
  readonly writeUnits: WriteUnitsPerTransfer;
  /** Read units per transfer on the pipeline (the consumer's account reads). A status GET adds 1. */
  readonly readUnitsPerTransfer: number;
  readonly streamRecordBytes: number;
  /** Item bytes written per transfer: what replication ships to the other region. */
  readonly itemBytesWrittenPerTransfer: number;
  /** Item bytes created per transfer: storage growth (entries, the transfer record). */
  readonly itemBytesCreatedPerTransfer: number;
  /** Lambda active tracing: the default sampling rule, per function (reservoir per second, then a rate). */
  readonly xray: { readonly reservoirPerSecond: number; readonly rate: number };
  /** Needed when CostInput.crossRegionShare > 0. */
  readonly crossRegion?: CrossRegionUsage;
}

export interface FixedPerRegion {
  readonly streams: number;
  readonly customMetrics: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly reconciler: {
    readonly invocationsPerMonth: number;
    readonly ms: number;
    readonly memoryMb: number;
  };
}

export interface CostInput {
  /** Transfers per second, both regions together. */
  readonly tps: number;
  /** Share of transfers taken by the primary region (the rest by the secondary). */
  readonly primaryShare: number;
  readonly primary: RegionPrices;
  readonly secondary: RegionPrices;
  readonly usage: Usage;
  readonly fixed: FixedPerRegion;
  /** Share of transfers whose two accounts have different home regions (default 0). */
  readonly crossRegionShare?: number;
}

export interface CostLine {
  readonly region: string;
  readonly service: string;
  readonly item: string;
  /** USD per million transfers (both regions' traffic). */
  readonly usd: number;
}

export interface CostReport {
  readonly tps: number;
  readonly transfersPerMonth: number;
  readonly lines: readonly CostLine[];
  readonly totalPerMillion: number;
  readonly byService: Readonly<Record<string, number>>;
  readonly byRegion: Readonly<Record<string, number>>;
  readonly monthlyTotal: number;
  readonly fixedMonthly: number;
}

/** Bytes billed by Kinesis for one record: rounded up to the next 1 KB. */
export function kinesisBilledBytes(recordBytes: number): number {
  return Math.max(1, Math.ceil(recordBytes / KB)) * KB;
}

/** Traces recorded per second by one function invoked `perSecond` times a second. */
export function tracesPerSecond(perSecond: number, sampling: Usage['xray']): number {
  const reserved = Math.min(perSecond, sampling.reservoirPerSecond);
  return reserved + sampling.rate * Math.max(0, perSecond - reserved);
}

/** Lambda cost of `invocations` lasting `ms` each at `memoryMb`: requests plus GB-seconds. */
export function lambdaCost(invocations: number, ms: number, memoryMb: number, prices: RegionPrices): number {
  const gbSeconds = invocations * (ms / 1000) * (memoryMb / 1024);
  return (invocations / 1e6) * prices.lambdaRequestsPerMillion.usd + gbSeconds * prices.lambdaArmGbSecond.usd;
}

type AddLine = (region: RegionPrices, service: string, item: string, usd: number) => void;

/** Invocations of a function in a region, per million transfers: X-Ray samples per function and second. */
interface Invocations {
  readonly region: RegionPrices;
  readonly fn: 'ingest' | 'consumer';
  readonly count: number;
}

/** The lines and function invocations of the traffic priced so far. */
interface Collector {
  readonly lines: CostLine[];
  readonly invocations: Invocations[];
  readonly add: AddLine;
}

function collector(): Collector {
  const lines: CostLine[] = [];
  return {
    lines,
    invocations: [],
    add: (region, service, item, usd) => lines.push({ region: region.region, service, item, usd }),
  };
}

/** Variable costs of `n` transfers taken by region `here`, with `other` holding the replica. */
function variableLines(c: Collector, n: number, here: RegionPrices, other: RegionPrices, u: Usage): void {
  const w = u.writeUnits;
  edgeLines(c, n, here, u);
  pipelineLines(c, n, here, other, u, {
    streamRecords: 1,
    streamRecordBytes: u.streamRecordBytes,
    tableWriteUnits: w.ingestTable + w.consumeTable,
    indexWriteUnits: w.ingestIndex + w.consumeIndex,
    replicatedWriteUnits: w.replicatedTable,
    readUnits: u.readUnitsPerTransfer,
    itemBytesWritten: u.itemBytesWrittenPerTransfer,
    itemBytesCreated: u.itemBytesCreatedPerTransfer,
  });
}

/**
 * Variable costs of `n` cross-region transfers whose debit account is homed in `debitHome` (which
 * takes them) and whose credit account is homed in `creditHome`.
 */
function crossRegionLines(
  c: Collector,
  n: number,
  debitHome: RegionPrices,
  creditHome: RegionPrices,
  u: Usage,
  x: CrossRegionUsage,
): void {
  edgeLines(c, n, debitHome, u);
  pipelineLines(c, n, debitHome, creditHome, u, x.debitHome);
  pipelineLines(c, n, creditHome, debitHome, u, x.creditHome);
}

/** The API and the ingest function for `n` transfers received by `here`; status reads included. */
function edgeLines(c: Collector, n: number, here: RegionPrices, u: Usage): void {
  const add = c.add;
  const requests = n * (u.postsPerTransfer + u.statusReadsPerTransfer);
  add(here, 'API Gateway', 'HTTP API requests', (requests / 1e6) * here.apiHttpRequestsPerMillion.usd);
  add(
    here,
    'API Gateway',
    'data transfer out',
    ((requests * u.responseBytes) / GB) * here.dataTransferOutPerGb.usd,
  );
  add(
    here,
    'Lambda',
    'ingest (requests + GB-s)',
    lambdaCost(requests, u.ingest.msPerRequest, u.ingest.memoryMb, here),
  );
  if (u.statusReadsPerTransfer > 0) {
    add(
      here,
      'DynamoDB',
      'reads (RRU)',
      (n * u.statusReadsPerTransfer * here.dynamoReadRequestsPerMillion.usd) / 1e6,
    );
  }
  const logBytes =
    requests *
    (u.ingest.logBytesPerRequest + u.platformLogBytesPerInvocation + u.apiAccessLogBytesPerRequest);
  add(here, 'CloudWatch', 'logs ingested', (logBytes / GB) * here.logsIngestPerGb.usd);
  add(here, 'CloudWatch', 'logs stored, first month', (logBytes / GB) * here.logsStoragePerGbMonth.usd);
  c.invocations.push({ region: here, fn: 'ingest', count: requests });
}

/** The stream, the consumer and the table replica of `here` for `n` transfers doing `work` there. */
function pipelineLines(
  c: Collector,
  n: number,
  here: RegionPrices,
  other: RegionPrices,
  u: Usage,
  work: RegionWork,
): void {
  const add = c.add;
  const records = n * work.streamRecords;
  const batches = records / u.consumer.recordsPerBatch;
  const consumerMs = u.consumer.msPerInvocation + u.consumer.msPerRecord * u.consumer.recordsPerBatch;
  add(
    here,
    'Lambda',
    'consumer (requests + GB-s)',
    lambdaCost(batches, consumerMs, u.consumer.memoryMb, here),
  );
  const billed = kinesisBilledBytes(work.streamRecordBytes);
  add(here, 'Kinesis', 'data in (1 KB per record)', ((records * billed) / GB) * here.kinesisIngestPerGb.usd);
  add(
    here,
    'Kinesis',
    'data retrieved',
    ((records * work.streamRecordBytes) / GB) * here.kinesisRetrievalPerGb.usd,
  );
  add(
    here,
    'Kinesis',
    'extended retention (days 2-7)',
    ((records * billed) / GB) *
      (EXTENDED_RETENTION_DAYS / DAYS_PER_MONTH) *
      here.kinesisExtendedRetentionPerGbMonth.usd,
  );
  add(
    here,
    'DynamoDB',
    'table writes (rWRU, transactional 2x)',
    (n * work.tableWriteUnits * here.dynamoReplicatedWritesPerMillion.usd) / 1e6,
  );
  add(
    here,
    'DynamoDB',
    'index writes (WRU)',
    (n * work.indexWriteUnits * here.dynamoWriteRequestsPerMillion.usd) / 1e6,
  );
  add(here, 'DynamoDB', 'reads (RRU)', (n * work.readUnits * here.dynamoReadRequestsPerMillion.usd) / 1e6);
  add(
    other,
    'DynamoDB',
    'replicated writes (rWRU)',
    (n * work.replicatedWriteUnits * other.dynamoReplicatedWritesPerMillion.usd) / 1e6,
  );
  add(
    other,
    'DynamoDB',
    'replica index writes (WRU)',
    (n * work.indexWriteUnits * other.dynamoWriteRequestsPerMillion.usd) / 1e6,
  );
  add(
    here,
    'Data transfer',
    'replication to the other region',
    ((n * work.itemBytesWritten) / GB) * here.interRegionTransferPerGb.usd,
  );
  for (const region of [here, other]) {
    add(
      region,
      'DynamoDB',
      'storage + PITR, first month',
      ((n * work.itemBytesCreated) / GB) *
        (region.dynamoStoragePerGbMonth.usd + region.dynamoPitrPerGbMonth.usd),
    );
  }
  const logBytes = batches * (u.consumer.logBytesPerInvocation + u.platformLogBytesPerInvocation);
  add(here, 'CloudWatch', 'logs ingested', (logBytes / GB) * here.logsIngestPerGb.usd);
  add(here, 'CloudWatch', 'logs stored, first month', (logBytes / GB) * here.logsStoragePerGbMonth.usd);
  c.invocations.push({ region: here, fn: 'consumer', count: batches });
}

/**
 * X-Ray traces of each function in each region, from all its invocations (per million transfers) at
 * `tps`: the sampling reservoir is per function and second, whatever traffic the function serves.
 */
function tracingLines(c: Collector, tps: number, xray: Usage['xray']): void {
  const total = new Map<string, Invocations>();
  for (const i of c.invocations) {
    const key = `${i.region.region}\u0000${i.fn}`;
    const prev = total.get(key);
    total.set(key, prev === undefined ? i : { ...prev, count: prev.count + i.count });
  }
  const byRegion = new Map<string, { region: RegionPrices; traces: number }>();
  for (const i of total.values()) {
    const perSecond = (i.count * tps) / 1e6;
    const traces = perSecond > 0 ? (i.count * tracesPerSecond(perSecond, xray)) / perSecond : 0;
    const prev = byRegion.get(i.region.region);
    byRegion.set(i.region.region, { region: i.region, traces: (prev?.traces ?? 0) + traces });
  }
  for (const { region, traces } of byRegion.values()) {
    c.add(
      region,
      'X-Ray',
      'traces recorded (active tracing)',
      (traces / 1e6) * region.xrayTracesRecordedPerMillion.usd,
    );
  }
}

/** Monthly fixed cost of one region. */
export function fixedMonthly(region: RegionPrices, f: FixedPerRegion): { item: string; usd: number }[] {
  return [
    {
      item: 'Kinesis on-demand stream-hours',
      usd: f.streams * HOURS_PER_MONTH * region.kinesisStreamHour.usd,
    },
    { item: 'CloudWatch custom metrics', usd: f.customMetrics * region.customMetricPerMonth.usd },
    { item: 'CloudWatch alarms', usd: f.alarms * region.alarmPerMonth.usd },
    { item: 'CloudWatch dashboards', usd: f.dashboards * region.dashboardPerMonth.usd },
    { item: 'KMS customer-managed keys', usd: f.kmsKeys * region.kmsKeyPerMonth.usd },
    {
      item: 'reconciler Lambda (schedule)',
      usd: lambdaCost(f.reconciler.invocationsPerMonth, f.reconciler.ms, f.reconciler.memoryMb, region),
    },
  ];
}

const FIXED_SERVICE: Readonly<Record<string, string>> = {
  'Kinesis on-demand stream-hours': 'Kinesis',
  'CloudWatch custom metrics': 'CloudWatch',
  'CloudWatch alarms': 'CloudWatch',
  'CloudWatch dashboards': 'CloudWatch',
  'KMS customer-managed keys': 'KMS',
  'reconciler Lambda (schedule)': 'Lambda',
};

/** Cost per million transfers at `tps`, both regions, line by line. */
export function costPerMillion(input: CostInput): CostReport {
  if (!(input.tps > 0)) throw new RangeError('tps must be positive');
  if (!(input.primaryShare >= 0 && input.primaryShare <= 1))
    throw new RangeError('primaryShare must be in [0, 1]');
  const crossShare = input.crossRegionShare ?? 0;
  if (!(crossShare >= 0 && crossShare <= 1)) throw new RangeError('crossRegionShare must be in [0, 1]');
  const cross = input.usage.crossRegion;
  if (crossShare > 0 && cross === undefined)
    throw new RangeError('crossRegionShare > 0 needs usage.crossRegion');
  const million = 1e6;
  const transfersPerMonth = input.tps * SECONDS_PER_MONTH;
  const shares: [RegionPrices, RegionPrices, number][] = [
    [input.primary, input.secondary, input.primaryShare],
    [input.secondary, input.primary, 1 - input.primaryShare],
  ];
  const c = collector();
  for (const [here, other, share] of shares) {
    if (share <= 0) continue;
    const same = share * (1 - crossShare);
    if (same > 0) variableLines(c, million * same, here, other, input.usage);
    const crossing = share * crossShare;
    if (crossing > 0 && cross !== undefined)
      crossRegionLines(c, million * crossing, here, other, input.usage, cross);
  }
  tracingLines(c, input.tps, input.usage.xray);
  const lines = c.lines;
  let fixedTotal = 0;
  for (const region of [input.primary, input.secondary]) {
    for (const f of fixedMonthly(region, input.fixed)) {
      fixedTotal += f.usd;
      lines.push({
        region: region.region,
        service: FIXED_SERVICE[f.item] ?? 'other',
        item: `${f.item} (fixed, amortized)`,
        usd: (f.usd / transfersPerMonth) * million,
      });
    }
  }
  const merged = mergeLines(lines);
  const sum = (select: (l: CostLine) => string) => {
    const out: Record<string, number> = {};
    for (const l of merged) out[select(l)] = (out[select(l)] ?? 0) + l.usd;
    return out;
  };
  const totalPerMillion = merged.reduce((n, l) => n + l.usd, 0);
  return {
    tps: input.tps,
    transfersPerMonth,
    lines: merged,
    totalPerMillion,
    byService: sum((l) => l.service),
    byRegion: sum((l) => l.region),
    monthlyTotal: (totalPerMillion * transfersPerMonth) / million,
    fixedMonthly: fixedTotal,
  };
}

/** Lines of the same region, service and item added together (both regions' traffic lands on each). */
function mergeLines(lines: readonly CostLine[]): CostLine[] {
  const byKey = new Map<string, CostLine>();
  for (const l of lines) {
    const key = `${l.region}\u0000${l.service}\u0000${l.item}`;
    const prev = byKey.get(key);
    byKey.set(key, prev === undefined ? l : { ...prev, usd: prev.usd + l.usd });
  }
  return [...byKey.values()];
}
