import { describe, expect, it } from 'vitest';
import { CDK_DEFAULTS } from '../../../tools/cost/cdk-settings.js';
import {
  ASSUMPTIONS,
  buildFixed,
  buildUsage,
  parseCrossRegionShare,
  recordsPerBatch,
} from '../../../tools/cost/inputs.js';
import {
  type CrossRegionUsage,
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

describe('cross-region transfers', () => {
  const work = { streamRecordBytes: 300, itemBytesWritten: 0, itemBytesCreated: 0 };
  const cross: CrossRegionUsage = {
    debitHome: {
      ...work,
      streamRecords: 2,
      tableWriteUnits: 10,
      indexWriteUnits: 4,
      replicatedWriteUnits: 6,
      readUnits: 7,
    },
    creditHome: {
      ...work,
      streamRecords: 1,
      tableWriteUnits: 5,
      indexWriteUnits: 0,
      replicatedWriteUnits: 3,
      readUnits: 2.5,
    },
  };
  const simple = usage({
    writeUnits: { ingestTable: 1, ingestIndex: 0, consumeTable: 4, consumeIndex: 1, replicatedTable: 3 },
    readUnitsPerTransfer: 2,
    streamRecordBytes: 300,
    consumer: {
      memoryMb: 1024,
      msPerRecord: 1,
      msPerInvocation: 0,
      recordsPerBatch: 100,
      logBytesPerInvocation: 0,
    },
    crossRegion: cross,
  });
  const at = (crossRegionShare: number | undefined) =>
    costPerMillion({
      tps: 10,
      primaryShare: 1,
      primary: flat('a', 1),
      secondary: flat('b', 2),
      fixed: NO_FIXED,
      usage: simple,
      ...(crossRegionShare === undefined ? {} : { crossRegionShare }),
    });

  it('at share 0 costs exactly what the model costs without cross-region usage', () => {
    const { crossRegion: _, ...withoutCross } = buildUsage(100, undefined, CDK_DEFAULTS).usage;
    const input = {
      tps: 100,
      primaryShare: 0.5,
      primary: US_EAST_2,
      secondary: CA_CENTRAL_1,
      fixed: buildFixed(CDK_DEFAULTS),
    };
    const today = costPerMillion({ ...input, usage: withoutCross });
    expect(
      costPerMillion({
        ...input,
        usage: buildUsage(100, undefined, CDK_DEFAULTS).usage,
        crossRegionShare: 0,
      }),
    ).toEqual(today);
    expect(at(0)).toEqual(at(undefined));
  });

  it('at share 1 prices both regions: the debit home takes the ingest, steps 1 and 3; the credit home step 2', () => {
    const same = at(0);
    const all = at(1);
    // The edge is the same: one request per transfer, in the debit home.
    expect(line(all, 'a', 'HTTP API requests')).toBeCloseTo(line(same, 'a', 'HTTP API requests'), 9);
    expect(line(all, 'a', 'ingest (requests + GB-s)')).toBeCloseTo(
      line(same, 'a', 'ingest (requests + GB-s)'),
      9,
    );
    // Table writes: 1 + 4 units in one region before; 10 at the debit home ($1) and 5 at the credit home ($2).
    expect(line(same, 'a', 'table writes (rWRU, transactional 2x)')).toBeCloseTo(5, 9);
    expect(line(all, 'a', 'table writes (rWRU, transactional 2x)')).toBeCloseTo(10, 9);
    expect(line(all, 'b', 'table writes (rWRU, transactional 2x)')).toBeCloseTo(10, 9);
    // Each region's writes replicate to the other, index maintenance included.
    expect(line(same, 'b', 'replicated writes (rWRU)')).toBeCloseTo(6, 9);
    expect(line(all, 'b', 'replicated writes (rWRU)')).toBeCloseTo(12, 9);
    expect(line(all, 'a', 'replicated writes (rWRU)')).toBeCloseTo(3, 9);
    expect(line(all, 'a', 'index writes (WRU)')).toBeCloseTo(4, 9);
    expect(line(all, 'b', 'replica index writes (WRU)')).toBeCloseTo(8, 9);
    expect(line(all, 'a', 'reads (RRU)')).toBeCloseTo(7, 9);
    expect(line(all, 'b', 'reads (RRU)')).toBeCloseTo(5, 9);
    // Stream records: 2 at the debit home (transfer, result), 1 at the credit home (credit leg).
    const kb = (1e6 * 1024) / GB;
    expect(line(same, 'a', 'data in (1 KB per record)')).toBeCloseTo(kb, 9);
    expect(line(all, 'a', 'data in (1 KB per record)')).toBeCloseTo(2 * kb, 9);
    expect(line(all, 'b', 'data in (1 KB per record)')).toBeCloseTo(2 * kb, 9);
    // Consumer invocations follow the records: twice as many at the debit home, and the credit home's.
    const consumer = (records: number, price: number) =>
      lambdaCost(records / 100, 100, 1024, flat('x', price));
    expect(line(all, 'a', 'consumer (requests + GB-s)')).toBeCloseTo(consumer(2e6, 1), 6);
    expect(line(all, 'b', 'consumer (requests + GB-s)')).toBeCloseTo(consumer(1e6, 2), 6);
    expect(all.totalPerMillion).toBeGreaterThan(same.totalPerMillion);
  });

  it('is linear in the share (no sampling reservoir in this usage)', () => {
    expect(at(0.5).totalPerMillion).toBeCloseTo((at(0).totalPerMillion + at(1).totalPerMillion) / 2, 9);
  });

  it('refuses a share outside [0, 1], and a share without cross-region usage', () => {
    expect(() => at(-0.1)).toThrow(RangeError);
    expect(() => at(1.1)).toThrow(RangeError);
    const { crossRegion: _, ...withoutCross } = simple;
    expect(() =>
      costPerMillion({
        tps: 1,
        primaryShare: 1,
        primary: US_EAST_2,
        secondary: CA_CENTRAL_1,
        fixed: NO_FIXED,
        usage: withoutCross,
        crossRegionShare: 0.5,
      }),
    ).toThrow(RangeError);
  });

  it('reads --cross-region-share as a number from 0 to 1, else a usage error', () => {
    expect(parseCrossRegionShare(undefined)).toBe(0);
    expect(parseCrossRegionShare('0')).toBe(0);
    expect(parseCrossRegionShare('0.1')).toBe(0.1);
    expect(parseCrossRegionShare('1')).toBe(1);
    for (const bad of ['1.5', '-0.1', 'abc', '', 'NaN', 'Infinity'])
      expect(() => parseCrossRegionShare(bad)).toThrow('--cross-region-share must be a number from 0 to 1');
  });

  it('takes the measured cross-region usage from the bench results and says so', () => {
    const region = {
      table_write_units: 10,
      index_write_units: 4,
      replicated_write_units: 6,
      read_units: 7,
      stream_records: 2,
      stream_record_bytes: 200,
      item_bytes_written: 2000,
      item_bytes_created: 700,
    };
    const measured = buildUsage(
      100,
      { cross_region: { debit_home: region, credit_home: { ...region, stream_records: 1 } } },
      CDK_DEFAULTS,
    );
    expect(measured.usage.crossRegion?.debitHome).toMatchObject({ tableWriteUnits: 10, streamRecords: 2 });
    expect(measured.usage.crossRegion?.creditHome.streamRecords).toBe(1);
    expect(measured.crossRegionProvenance).toBe('measured (bench xregion)');
    const fallback = buildUsage(100, undefined, CDK_DEFAULTS);
    expect(fallback.crossRegionProvenance).toMatch(/^default/);
    expect(fallback.usage.crossRegion).toEqual(ASSUMPTIONS.defaults.crossRegion);
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
