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

/** Variable costs of `n` transfers taken by region `here`, with `other` holding the replica. */
function variableLines(
  n: number,
  rate: number,
  here: RegionPrices,
  other: RegionPrices,
  u: Usage,
): CostLine[] {
  const lines: CostLine[] = [];
  const add = (region: RegionPrices, service: string, item: string, usd: number) =>
    lines.push({ region: region.region, service, item, usd });
  const requests = n * (u.postsPerTransfer + u.statusReadsPerTransfer);
  const batches = n / u.consumer.recordsPerBatch;
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
  const consumerMs = u.consumer.msPerInvocation + u.consumer.msPerRecord * u.consumer.recordsPerBatch;
  add(
    here,
    'Lambda',
    'consumer (requests + GB-s)',
    lambdaCost(batches, consumerMs, u.consumer.memoryMb, here),
  );
  const billed = kinesisBilledBytes(u.streamRecordBytes);
  add(here, 'Kinesis', 'data in (1 KB per record)', ((n * billed) / GB) * here.kinesisIngestPerGb.usd);
  add(here, 'Kinesis', 'data retrieved', ((n * u.streamRecordBytes) / GB) * here.kinesisRetrievalPerGb.usd);
  add(
    here,
    'Kinesis',
    'extended retention (days 2-7)',
    ((n * billed) / GB) *
      (EXTENDED_RETENTION_DAYS / DAYS_PER_MONTH) *
      here.kinesisExtendedRetentionPerGbMonth.usd,
  );
  const w = u.writeUnits;
  add(
    here,
    'DynamoDB',
    'table writes (rWRU, transactional 2x)',
    (n * (w.ingestTable + w.consumeTable) * here.dynamoReplicatedWritesPerMillion.usd) / 1e6,
  );
  add(
    here,
    'DynamoDB',
    'index writes (WRU)',
    (n * (w.ingestIndex + w.consumeIndex) * here.dynamoWriteRequestsPerMillion.usd) / 1e6,
  );
  add(
    here,
    'DynamoDB',
    'reads (RRU)',
    (n * (u.readUnitsPerTransfer + u.statusReadsPerTransfer) * here.dynamoReadRequestsPerMillion.usd) / 1e6,
  );
  add(
    other,
    'DynamoDB',
    'replicated writes (rWRU)',
    (n * w.replicatedTable * other.dynamoReplicatedWritesPerMillion.usd) / 1e6,
  );
  add(
    other,
    'DynamoDB',
    'replica index writes (WRU)',
    (n * (w.ingestIndex + w.consumeIndex) * other.dynamoWriteRequestsPerMillion.usd) / 1e6,
  );
  add(
    here,
    'Data transfer',
    'replication to the other region',
    ((n * u.itemBytesWrittenPerTransfer) / GB) * here.interRegionTransferPerGb.usd,
  );
  for (const region of [here, other]) {
    add(
      region,
      'DynamoDB',
      'storage + PITR, first month',
      ((n * u.itemBytesCreatedPerTransfer) / GB) *
        (region.dynamoStoragePerGbMonth.usd + region.dynamoPitrPerGbMonth.usd),
    );
  }
  const logBytes =
    requests *
      (u.ingest.logBytesPerRequest + u.platformLogBytesPerInvocation + u.apiAccessLogBytesPerRequest) +
    batches * (u.consumer.logBytesPerInvocation + u.platformLogBytesPerInvocation);
  add(here, 'CloudWatch', 'logs ingested', (logBytes / GB) * here.logsIngestPerGb.usd);
  add(here, 'CloudWatch', 'logs stored, first month', (logBytes / GB) * here.logsStoragePerGbMonth.usd);
  const ingestPerSecond = rate * (u.postsPerTransfer + u.statusReadsPerTransfer);
  const tracesPerRequest = rate > 0 ? tracesPerSecond(ingestPerSecond, u.xray) / ingestPerSecond : 0;
  const batchesPerSecond = rate / u.consumer.recordsPerBatch;
  const tracesPerBatch = rate > 0 ? tracesPerSecond(batchesPerSecond, u.xray) / batchesPerSecond : 0;
  add(
    here,
    'X-Ray',
    'traces recorded (active tracing)',
    ((requests * tracesPerRequest + batches * tracesPerBatch) / 1e6) * here.xrayTracesRecordedPerMillion.usd,
  );
  return lines;
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
  const million = 1e6;
  const transfersPerMonth = input.tps * SECONDS_PER_MONTH;
  const shares: [RegionPrices, RegionPrices, number][] = [
    [input.primary, input.secondary, input.primaryShare],
    [input.secondary, input.primary, 1 - input.primaryShare],
  ];
  const lines: CostLine[] = [];
  for (const [here, other, share] of shares) {
    if (share > 0) lines.push(...variableLines(million * share, input.tps * share, here, other, input.usage));
  }
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
