import type { CdkSettings } from './cdk-settings.js';
import type { CrossRegionUsage, FixedPerRegion, RegionWork, Usage } from './model.js';

/**
 * Turns what `npm run bench` measured (bench/results.json `cost_inputs`) and the CDK settings into
 * the model's usage, filling what the bench cannot measure with stated assumptions. Pure.
 */

/** The `cost_inputs` block of bench/results.json (every field may be null when a step was skipped). */
export interface BenchCostInputs {
  readonly ingest_cpu_ms_per_request?: number | null;
  readonly consumer_cpu_ms_per_record?: number | null;
  readonly ingest_log_bytes_per_request?: number | null;
  readonly write_units?: {
    readonly ingest_table: number;
    readonly ingest_index: number;
    readonly consume_table: number;
    readonly consume_index: number;
    readonly replicated: number;
  } | null;
  readonly read_units_per_transfer?: number | null;
  readonly stream_record_bytes?: number | null;
  readonly item_bytes_written_per_transfer?: number | null;
  readonly item_bytes_created_per_transfer?: number | null;
  /** A transfer between accounts homed in different regions, per transfer (bench step `xregion`). */
  readonly cross_region?: {
    readonly debit_home: BenchRegionWork;
    readonly credit_home: BenchRegionWork;
  } | null;
}

/** One region's share of a cross-region transfer in bench/results.json. */
export interface BenchRegionWork {
  readonly table_write_units: number;
  readonly index_write_units: number;
  readonly replicated_write_units: number;
  readonly read_units: number;
  readonly stream_records: number;
  readonly stream_record_bytes: number;
  readonly item_bytes_written: number;
  readonly item_bytes_created: number;
}

/**
 * Assumptions for what a local bench cannot measure. AWS call latencies are in-region round trips as
 * typically seen from Lambda; CPU measured on this machine is scaled to a 1024 MB arm64 function
 * (about 0.58 of a vCPU: Lambda allocates CPU in proportion to memory, a full vCPU at 1769 MB).
 */
export const ASSUMPTIONS = {
  dynamoPutItemMs: 5,
  dynamoBatchGetMs: 5,
  dynamoTransactWriteMs: 12,
  kinesisPutRecordsMs: 15,
  /** Lambda CPU share at 1024 MB: 1024 / 1769. */
  cpuShareAt1024Mb: 1024 / 1769,
  ingestOverheadMs: 2,
  /**
   * The consumer reads and commits one chunk at a time (no records in flight in parallel): a chunk
   * is cut where its writes would pass DynamoDB's 100 items per transaction. On the bench's uniform
   * workload (100 accounts, batches of 100) that was 20 records per chunk (300 transfers, 15
   * transactions); fewer distinct accounts per record make chunks longer.
   */
  consumerRecordsPerChunk: 20,
  consumerInvocationMs: 10,
  responseBytes: 450,
  /** Powertools access line; measured by the bench when available. */
  ingestLogBytesPerRequest: 250,
  /** Lambda JSON platform lines (platform.start, platform.report) per invocation. */
  platformLogBytesPerInvocation: 900,
  /** API Gateway access log line of infra-cdk/constructs/ingest-api.ts (20 fields). */
  apiAccessLogBytesPerRequest: 700,
  /** One EMF line of consumer metrics per batch. */
  consumerLogBytesPerInvocation: 600,
  /** Custom metrics per region: the consumer's 6 Powertools metrics, the event source mapping's 6. */
  powertoolsMetrics: 6,
  eventSourceMappingMetrics: 6,
  /** API Gateway detailed metrics: per route, 6 metrics (Count, 4xx, 5xx, Latency, IntegrationLatency, DataProcessed). */
  apiMetricsPerRoute: 6,
  /** Initial on-demand stream capacity: 4 shards' worth (4 MB/s, 4,000 records/s). */
  initialShards: 4,
  reconcilerMs: 200,
  /** Used when bench/results.json is missing or lacks a figure (values of a bench run on this code). */
  defaults: {
    ingestCpuMs: 1.9,
    consumerCpuMs: 0.5,
    writeUnits: {
      ingestTable: 1,
      ingestIndex: 1,
      consumeTable: 8.45,
      consumeIndex: 1,
      replicatedTable: 5.23,
    },
    readUnitsPerTransfer: 2.61,
    streamRecordBytes: 253,
    itemBytesWrittenPerTransfer: 1396,
    itemBytesCreatedPerTransfer: 721,
    /** Bench step `xregion` on this code (300 transfers, us-east-2 -> ca-central-1, ingest included). */
    crossRegion: {
      debitHome: {
        streamRecords: 2,
        streamRecordBytes: 211.4,
        tableWriteUnits: 11.44,
        indexWriteUnits: 4,
        replicatedWriteUnits: 6.22,
        readUnits: 7.707,
        itemBytesWritten: 2300.3,
        itemBytesCreated: 760.6,
      },
      creditHome: {
        streamRecords: 1,
        streamRecordBytes: 209.9,
        tableWriteUnits: 6.133,
        indexWriteUnits: 0,
        replicatedWriteUnits: 3.067,
        readUnits: 2.883,
        itemBytesWritten: 980.3,
        itemBytesCreated: 673.9,
      },
    },
  },
} as const;

export interface UsageOverrides {
  readonly statusReadsPerTransfer?: number;
  readonly ingestMs?: number;
  readonly consumerMsPerRecord?: number;
  readonly recordsPerBatch?: number;
  readonly writeUnitsScale?: number;
}

/** Average records per consumer batch at `tps`: the stream's shards each fill a batch for the window. */
export function recordsPerBatch(tps: number, cdk: CdkSettings): number {
  const shards = Math.max(ASSUMPTIONS.initialShards, Math.ceil(tps / 1000));
  const perWindow = (tps / shards) * Math.max(cdk.consumerBatchingWindowS, 0.1);
  return Math.min(cdk.consumerBatchSize, Math.max(1, perWindow));
}

export interface UsageReport {
  readonly usage: Usage;
  /** For each input: `measured` (bench/results.json), `default`, `assumed` or `override`. */
  readonly provenance: Readonly<Record<string, string>>;
  /** Where `usage.crossRegion` comes from: `measured (bench xregion)` or `default (...)`. */
  readonly crossRegionProvenance: string;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export function buildUsage(
  tps: number,
  bench: BenchCostInputs | undefined,
  cdk: CdkSettings,
  overrides: UsageOverrides = {},
): UsageReport {
  const a = ASSUMPTIONS;
  const d = a.defaults;
  const provenance: Record<string, string> = {};
  const pick = (name: string, measured: number | null | undefined, fallback: number, override?: number) => {
    if (override !== undefined) {
      provenance[name] = 'override';
      return override;
    }
    if (finite(measured)) {
      provenance[name] = 'measured';
      return measured;
    }
    provenance[name] = 'default';
    return fallback;
  };
  const ingestCpu = pick('ingest CPU ms/request', bench?.ingest_cpu_ms_per_request, d.ingestCpuMs);
  const consumerCpu = pick('consumer CPU ms/record', bench?.consumer_cpu_ms_per_record, d.consumerCpuMs);
  const scale = 1 / a.cpuShareAt1024Mb;
  const assumed = (name: string, value: number, note: string, override?: number) => {
    provenance[name] = override === undefined ? `assumed (${note})` : 'override';
    return override ?? value;
  };
  const ingestMs = assumed(
    'ingest duration ms',
    a.dynamoPutItemMs + a.kinesisPutRecordsMs + a.ingestOverheadMs + ingestCpu * scale,
    'AWS call latencies + CPU scaled to 1024 MB',
    overrides.ingestMs,
  );
  const batch = assumed(
    'records per batch',
    recordsPerBatch(tps, cdk),
    'tps / shards over the batching window, at most the batch size',
    overrides.recordsPerBatch,
  );
  const recordsPerChunk = Math.max(1, Math.min(batch, a.consumerRecordsPerChunk));
  const waitPerRecord = (a.dynamoBatchGetMs + a.dynamoTransactWriteMs) / recordsPerChunk;
  const consumerMs = assumed(
    'consumer ms/record',
    waitPerRecord + consumerCpu * scale,
    `one read and one transaction per chunk of min(batch, ${a.consumerRecordsPerChunk}) records, in sequence, plus the CPU scaled to 1024 MB`,
    overrides.consumerMsPerRecord,
  );
  const wu = bench?.write_units;
  const scaleUnits = overrides.writeUnitsScale ?? 1;
  const writeUnits =
    wu === undefined || wu === null
      ? d.writeUnits
      : {
          ingestTable: wu.ingest_table,
          ingestIndex: wu.ingest_index,
          consumeTable: wu.consume_table,
          consumeIndex: wu.consume_index,
          replicatedTable: wu.replicated,
        };
  provenance['write units'] =
    overrides.writeUnitsScale !== undefined ? 'override (scaled)' : wu ? 'measured' : 'default';
  const crossRegion = crossRegionUsage(bench?.cross_region, scaleUnits);
  const usage: Usage = {
    postsPerTransfer: 1,
    statusReadsPerTransfer: assumed(
      'status reads/transfer',
      0,
      'clients do not poll',
      overrides.statusReadsPerTransfer,
    ),
    responseBytes: a.responseBytes,
    ingest: {
      memoryMb: cdk.memoryMb.ingest,
      msPerRequest: ingestMs,
      logBytesPerRequest: pick(
        'ingest log bytes/request',
        bench?.ingest_log_bytes_per_request,
        a.ingestLogBytesPerRequest,
      ),
    },
    consumer: {
      memoryMb: cdk.memoryMb.consumer,
      msPerRecord: consumerMs,
      msPerInvocation: a.consumerInvocationMs,
      recordsPerBatch: batch,
      logBytesPerInvocation: a.consumerLogBytesPerInvocation,
    },
    platformLogBytesPerInvocation: a.platformLogBytesPerInvocation,
    apiAccessLogBytesPerRequest: a.apiAccessLogBytesPerRequest,
    writeUnits: {
      ingestTable: writeUnits.ingestTable * scaleUnits,
      ingestIndex: writeUnits.ingestIndex * scaleUnits,
      consumeTable: writeUnits.consumeTable * scaleUnits,
      consumeIndex: writeUnits.consumeIndex * scaleUnits,
      replicatedTable: writeUnits.replicatedTable * scaleUnits,
    },
    readUnitsPerTransfer: pick('read units/transfer', bench?.read_units_per_transfer, d.readUnitsPerTransfer),
    streamRecordBytes: pick('stream record bytes', bench?.stream_record_bytes, d.streamRecordBytes),
    itemBytesWrittenPerTransfer: pick(
      'item bytes written/transfer',
      bench?.item_bytes_written_per_transfer,
      d.itemBytesWrittenPerTransfer,
    ),
    itemBytesCreatedPerTransfer: pick(
      'item bytes created/transfer',
      bench?.item_bytes_created_per_transfer,
      d.itemBytesCreatedPerTransfer,
    ),
    xray: { reservoirPerSecond: 1, rate: 0.05 },
    crossRegion: crossRegion.usage,
  };
  return {
    usage,
    provenance,
    crossRegionProvenance:
      (crossRegion.measured ? 'measured (bench xregion)' : 'default (a bench xregion run of this code)') +
      (overrides.writeUnitsScale !== undefined ? ', write units scaled' : ''),
  };
}

/**
 * `--cross-region-share`: the share of transfers whose two accounts have different home regions,
 * a number in [0, 1] (default 0). Throws on anything else (the command's usage error).
 */
export function parseCrossRegionShare(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1)
    throw new Error('--cross-region-share must be a number from 0 to 1');
  return v;
}

function crossRegionUsage(
  measured: BenchCostInputs['cross_region'],
  scaleUnits: number,
): { usage: CrossRegionUsage; measured: boolean } {
  const fromBench = (r: BenchRegionWork): RegionWork => ({
    streamRecords: r.stream_records,
    streamRecordBytes: r.stream_record_bytes,
    tableWriteUnits: r.table_write_units,
    indexWriteUnits: r.index_write_units,
    replicatedWriteUnits: r.replicated_write_units,
    readUnits: r.read_units,
    itemBytesWritten: r.item_bytes_written,
    itemBytesCreated: r.item_bytes_created,
  });
  const scaled = (r: RegionWork): RegionWork => ({
    ...r,
    tableWriteUnits: r.tableWriteUnits * scaleUnits,
    indexWriteUnits: r.indexWriteUnits * scaleUnits,
    replicatedWriteUnits: r.replicatedWriteUnits * scaleUnits,
  });
  const base =
    measured === undefined || measured === null
      ? ASSUMPTIONS.defaults.crossRegion
      : { debitHome: fromBench(measured.debit_home), creditHome: fromBench(measured.credit_home) };
  return {
    usage: { debitHome: scaled(base.debitHome), creditHome: scaled(base.creditHome) },
    measured: measured !== undefined && measured !== null,
  };
}

/** Fixed monthly items per region, from the synthesized template and the assumptions above. */
export function buildFixed(cdk: CdkSettings): FixedPerRegion {
  const a = ASSUMPTIONS;
  return {
    streams: cdk.streams,
    customMetrics:
      a.powertoolsMetrics +
      a.eventSourceMappingMetrics +
      (cdk.apiDetailedMetrics ? cdk.apiRoutes * a.apiMetricsPerRoute : 0),
    alarms: cdk.alarms,
    dashboards: cdk.dashboards,
    kmsKeys: cdk.kmsKeys,
    // Every minute (the reconciler's schedule).
    reconciler: { invocationsPerMonth: 60 * 730, ms: a.reconcilerMs, memoryMb: cdk.memoryMb.reconciler },
  };
}
