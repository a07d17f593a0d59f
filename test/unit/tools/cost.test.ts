import { describe, expect, it } from 'vitest';
import { CDK_DEFAULTS } from '../../../tools/cost/cdk-settings.js';
import { ASSUMPTIONS, buildFixed, buildUsage, recordsPerBatch } from '../../../tools/cost/inputs.js';
import {
  costPerMillion,
  type FixedPerRegion,
  fixedMonthly,
  GB,
  kinesisBilledBytes,
  lambdaCost,
  SECONDS_PER_MONTH,
  tracesPerSecond,
  type Usage,
} from '../../../tools/cost/model.js';
import { CA_CENTRAL_1, type Price, type RegionPrices, US_EAST_2 } from '../../../tools/cost/prices.js';

/** A region where every price is `usd` (or 0), so that each line is easy to compute by hand. */
function flat(region: string, usd: number): RegionPrices {
  const price: Price = { usd, unit: 'test', confidence: 'known' };
  const out: Record<string, unknown> = { region, name: region };
  for (const key of Object.keys(US_EAST_2)) if (key !== 'region' && key !== 'name') out[key] = price;
  return out as unknown as RegionPrices;
}

const NO_FIXED: FixedPerRegion = {
  streams: 0,
  customMetrics: 0,
  alarms: 0,
  dashboards: 0,
  kmsKeys: 0,
  reconciler: { invocationsPerMonth: 0, ms: 0, memoryMb: 128 },
};

function usage(over: Partial<Usage> = {}): Usage {
  return {
    postsPerTransfer: 1,
    statusReadsPerTransfer: 0,
    responseBytes: 0,
    ingest: { memoryMb: 1024, msPerRequest: 0, logBytesPerRequest: 0 },
    consumer: {
      memoryMb: 1024,
      msPerRecord: 0,
      msPerInvocation: 0,
      recordsPerBatch: 100,
      logBytesPerInvocation: 0,
    },
    platformLogBytesPerInvocation: 0,
    apiAccessLogBytesPerRequest: 0,
    writeUnits: { ingestTable: 0, ingestIndex: 0, consumeTable: 0, consumeIndex: 0, replicatedTable: 0 },
    readUnitsPerTransfer: 0,
    streamRecordBytes: 0,
    itemBytesWrittenPerTransfer: 0,
    itemBytesCreatedPerTransfer: 0,
    xray: { reservoirPerSecond: 0, rate: 0 },
    ...over,
  };
}

const line = (r: ReturnType<typeof costPerMillion>, region: string, item: string) =>
  r.lines.find((l) => l.region === region && l.item === item)?.usd ?? Number.NaN;

describe('cost arithmetic', () => {
  it('bills Kinesis records by the started KB', () => {
    expect(kinesisBilledBytes(1)).toBe(1024);
    expect(kinesisBilledBytes(1024)).toBe(1024);
    expect(kinesisBilledBytes(1025)).toBe(2048);
  });

  it('bills Lambda per request and per GB-second', () => {
    // 1M invocations x 100 ms x 1 GB = 100,000 GB-s.
    expect(lambdaCost(1e6, 100, 1024, US_EAST_2)).toBeCloseTo(0.2 + 100_000 * 0.0000133334, 6);
    expect(lambdaCost(1e6, 100, 512, US_EAST_2)).toBeCloseTo(0.2 + 50_000 * 0.0000133334, 6);
  });

  it('samples traces as the default X-Ray rule does: 1 a second, then 5%', () => {
    const rule = { reservoirPerSecond: 1, rate: 0.05 };
    expect(tracesPerSecond(0.5, rule)).toBe(0.5);
    expect(tracesPerSecond(101, rule)).toBeCloseTo(1 + 5, 9);
  });

  it('prices DynamoDB writes in the taking region and replicated writes in the other', () => {
    const here = flat('here', 1);
    const other = flat('other', 2);
    const r = costPerMillion({
      tps: 10,
      primaryShare: 1,
      primary: here,
      secondary: other,
      fixed: NO_FIXED,
      usage: usage({
        writeUnits: { ingestTable: 1, ingestIndex: 1, consumeTable: 10, consumeIndex: 1, replicatedTable: 6 },
      }),
    });
    // 1M transfers x 11 table units at $1 per million, 2 index units likewise.
    expect(line(r, 'here', 'table writes (rWRU, transactional 2x)')).toBeCloseTo(11, 9);
    expect(line(r, 'here', 'index writes (WRU)')).toBeCloseTo(2, 9);
    // The replica region: 6 replicated units and its own index maintenance, at its prices ($2).
    expect(line(r, 'other', 'replicated writes (rWRU)')).toBeCloseTo(12, 9);
    expect(line(r, 'other', 'replica index writes (WRU)')).toBeCloseTo(4, 9);
  });

  it('splits traffic between the regions by the primary share', () => {
    const input = {
      tps: 10,
      primary: flat('a', 1),
      secondary: flat('b', 1),
      fixed: NO_FIXED,
      usage: usage(),
    };
    const half = costPerMillion({ ...input, primaryShare: 0.5 });
    expect(line(half, 'a', 'HTTP API requests')).toBeCloseTo(0.5, 9);
    expect(line(half, 'b', 'HTTP API requests')).toBeCloseTo(0.5, 9);
    expect(half.totalPerMillion).toBeCloseTo(
      costPerMillion({ ...input, primaryShare: 1 }).totalPerMillion,
      9,
    );
  });

  it('spreads fixed monthly costs over the month of transfers: half as much per million at twice the rate', () => {
    const fixed: FixedPerRegion = { ...NO_FIXED, streams: 1, kmsKeys: 2 };
    const at = (tps: number) =>
      costPerMillion({
        tps,
        primaryShare: 0.5,
        primary: US_EAST_2,
        secondary: CA_CENTRAL_1,
        fixed,
        usage: usage(),
      });
    const monthly =
      fixedMonthly(US_EAST_2, fixed).reduce((n, f) => n + f.usd, 0) +
      fixedMonthly(CA_CENTRAL_1, fixed).reduce((n, f) => n + f.usd, 0);
    expect(at(10).fixedMonthly).toBeCloseTo(monthly, 9);
    const fixedLines = (r: ReturnType<typeof costPerMillion>) =>
      r.lines.filter((l) => l.item.includes('(fixed')).reduce((n, l) => n + l.usd, 0);
    expect(fixedLines(at(10))).toBeCloseTo((monthly / (10 * SECONDS_PER_MONTH)) * 1e6, 9);
    expect(fixedLines(at(20))).toBeCloseTo(fixedLines(at(10)) / 2, 9);
  });

  it('adds up: the total is the sum of the lines, by service and by region', () => {
    const r = costPerMillion({
      tps: 100,
      primaryShare: 0.5,
      primary: US_EAST_2,
      secondary: CA_CENTRAL_1,
      fixed: buildFixed(CDK_DEFAULTS),
      usage: buildUsage(100, undefined, CDK_DEFAULTS).usage,
    });
    const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
    expect(sum(r.lines.map((l) => l.usd))).toBeCloseTo(r.totalPerMillion, 9);
    expect(sum(Object.values(r.byService))).toBeCloseTo(r.totalPerMillion, 9);
    expect(sum(Object.values(r.byRegion))).toBeCloseTo(r.totalPerMillion, 9);
    expect(r.monthlyTotal).toBeCloseTo((r.totalPerMillion * 100 * SECONDS_PER_MONTH) / 1e6, 6);
  });

  it('bills API requests and data out per request, Kinesis data in per KB-rounded record', () => {
    const r = costPerMillion({
      tps: 1,
      primaryShare: 1,
      primary: flat('a', 1),
      secondary: flat('b', 1),
      fixed: NO_FIXED,
      usage: usage({ responseBytes: GB / 1e6, streamRecordBytes: 300 }),
    });
    expect(line(r, 'a', 'HTTP API requests')).toBeCloseTo(1, 9);
    expect(line(r, 'a', 'data transfer out')).toBeCloseTo(1, 9);
    expect(line(r, 'a', 'data in (1 KB per record)')).toBeCloseTo((1e6 * 1024) / GB, 9);
  });

  it('refuses a non-positive rate or a share outside [0, 1]', () => {
    const input = { primary: US_EAST_2, secondary: CA_CENTRAL_1, fixed: NO_FIXED, usage: usage() };
    expect(() => costPerMillion({ ...input, tps: 0, primaryShare: 0.5 })).toThrow(RangeError);
    expect(() => costPerMillion({ ...input, tps: 1, primaryShare: 1.5 })).toThrow(RangeError);
  });
});

describe('usage inputs', () => {
  it('fills a consumer batch from the shards over the batching window, up to the batch size', () => {
    expect(recordsPerBatch(40, CDK_DEFAULTS)).toBe(10);
    expect(recordsPerBatch(1_000, CDK_DEFAULTS)).toBe(100);
    expect(recordsPerBatch(0.5, CDK_DEFAULTS)).toBe(1);
  });

  it('takes measured figures from the bench results and says so', () => {
    const { usage: u, provenance } = buildUsage(
      100,
      {
        write_units: { ingest_table: 1, ingest_index: 1, consume_table: 4, consume_index: 1, replicated: 3 },
        read_units_per_transfer: 2,
        stream_record_bytes: 300,
      },
      CDK_DEFAULTS,
    );
    expect(u.writeUnits).toEqual({
      ingestTable: 1,
      ingestIndex: 1,
      consumeTable: 4,
      consumeIndex: 1,
      replicatedTable: 3,
    });
    expect(u.streamRecordBytes).toBe(300);
    expect(provenance['write units']).toBe('measured');
    expect(provenance['ingest CPU ms/request']).toBe('default');
  });

  it('waits one read and one transaction per chunk of records, never more than the batch holds', () => {
    const a = ASSUMPTIONS;
    const wait = a.dynamoBatchGetMs + a.dynamoTransactWriteMs;
    const cpu = (ms: number) => ms / a.cpuShareAt1024Mb;
    const full = buildUsage(1, { consumer_cpu_ms_per_record: 1 }, CDK_DEFAULTS, { recordsPerBatch: 100 });
    expect(full.usage.consumer.msPerRecord).toBeCloseTo(wait / a.consumerRecordsPerChunk + cpu(1), 9);
    const single = buildUsage(1, { consumer_cpu_ms_per_record: 1 }, CDK_DEFAULTS, { recordsPerBatch: 1 });
    expect(single.usage.consumer.msPerRecord).toBeCloseTo(wait + cpu(1), 9);
  });

  it('uses the memory sizes of the CDK settings', () => {
    const { usage: u } = buildUsage(10, undefined, {
      ...CDK_DEFAULTS,
      memoryMb: { ingest: 512, consumer: 2048, reconciler: 128 },
    });
    expect(u.ingest.memoryMb).toBe(512);
    expect(u.consumer.memoryMb).toBe(2048);
  });
});
