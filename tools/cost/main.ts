import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GOALS, judge } from '../bench/goals.js';
import { CDK_DEFAULTS, type CdkSettings, readCdkSettings } from './cdk-settings.js';
import {
  ASSUMPTIONS,
  type BenchCostInputs,
  buildFixed,
  buildUsage,
  parseCrossRegionShare,
  type UsageOverrides,
} from './inputs.js';
import { type CostReport, costPerMillion, type RegionWork } from './model.js';
import { PRICES_BASIS, PRICES_COMPILED_ON, REGION_PRICES } from './prices.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The cost goal of docs/PERFORMANCE.md: USD per million transfers, both regions. */
export const COST_GOAL_PER_MILLION = 6;

const USAGE = `Usage: npm run cost -- --tps T [options]

The AWS cost of one million transfers at T transfers/s across the two regions of the CDK app
(API Gateway HTTP API, Lambda arm64 at the CDK memory sizes, Kinesis on-demand, DynamoDB on-demand
with the global table's replicated writes, CloudWatch, X-Ray, KMS, data transfer), from the
per-transfer counts in bench/results.json (npm run bench) when present, else stated defaults, and the
price table in tools/cost/prices.ts (compiled ${PRICES_COMPILED_ON}; ${PRICES_BASIS}).

Options:
  --tps <t>               transfers per second, both regions together (required)
  --primary-share <f>     share of transfers taken by the primary region (default 0.5)
  --results <file>        bench results to read (default bench/results.json)
  --status-reads <n>      client GET /v1/transfers/{id} per transfer (default 0)
  --ingest-ms <ms>        billed duration of an ingest request (default: assumed, see output)
  --consumer-ms <ms>      billed consumer time per record (default: assumed)
  --batch <n>             records per consumer invocation (default: from tps and the CDK mapping)
  --write-units-scale <f> multiply the measured write units (what-if, e.g. 0.5)
  --cross-region-share <f> share of transfers whose two accounts are homed in different regions
                          (default 0), priced with the usage the bench's xregion step measured:
                          the debit, credit leg and result steps in both regions, their replication,
                          stream records and consumer invocations
  --no-synth              use the CDK settings as written in tools/cost/cdk-settings.ts instead of
                          synthesizing the app (faster; may drift from infra-cdk)
  --json <file>           also write the report as JSON
  -h, --help              show this help`;

function num(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max)
    throw new Error(`${name} must be a number from ${min} to ${max}`);
  return v;
}

function readBench(file: string): { inputs: BenchCostInputs | undefined; note: string } {
  if (!existsSync(file)) return { inputs: undefined, note: `${file} not found: defaults used` };
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
    cost_inputs?: BenchCostInputs;
    generatedAt?: string;
  };
  return { inputs: parsed.cost_inputs, note: `${file} (generated ${parsed.generatedAt ?? '?'})` };
}

const usd = (v: number) =>
  v >= 1 ? `$${v.toFixed(2)}` : v >= 0.01 ? `$${v.toFixed(3)}` : `$${v.toFixed(4)}`;

function render(
  report: CostReport,
  cdk: CdkSettings,
  provenance: Readonly<Record<string, string>>,
  benchNote: string,
): string {
  const lines = [...report.lines].filter((l) => l.usd >= 0.00005).sort((a, b) => b.usd - a.usd);
  const width = Math.max(...lines.map((l) => l.item.length));
  const verdict = judge(report.totalPerMillion, { op: '<=', target: COST_GOAL_PER_MILLION });
  return [
    `Cost per million transfers at ${report.tps} transfers/s (${(report.transfersPerMonth / 1e6).toFixed(1)} M a month), regions ${cdk.primaryRegion} + ${cdk.secondaryRegion}`,
    `inputs: ${benchNote}; CDK settings: ${cdk.source} (memory ingest ${cdk.memoryMb.ingest} MB, consumer ${cdk.memoryMb.consumer} MB, ${cdk.architecture})`,
    `prices: tools/cost/prices.ts, compiled ${PRICES_COMPILED_ON} (${PRICES_BASIS})`,
    '',
    ...lines.map(
      (l) =>
        `  ${l.region.padEnd(13)} ${l.service.padEnd(14)} ${l.item.padEnd(width)}  ${usd(l.usd).padStart(9)}`,
    ),
    '',
    'by service:',
    ...Object.entries(report.byService)
      .sort((a, b) => b[1] - a[1])
      .map(
        ([k, v]) =>
          `  ${k.padEnd(14)} ${usd(v).padStart(9)}  ${((v / report.totalPerMillion) * 100).toFixed(0).padStart(3)}%`,
      ),
    'by region:',
    ...Object.entries(report.byRegion).map(([k, v]) => `  ${k.padEnd(14)} ${usd(v).padStart(9)}`),
    '',
    `TOTAL per million transfers: ${usd(report.totalPerMillion)}  (goal <= $${COST_GOAL_PER_MILLION}: ${verdict.text})`,
    `monthly at ${report.tps}/s: ${usd(report.monthlyTotal)} (of which fixed ${usd(report.fixedMonthly)})`,
    '',
    'inputs:',
    ...Object.entries(provenance).map(([k, v]) => `  ${k.padEnd(28)} ${v}`),
  ].join('\n');
}

/** The printed inputs of the cross-region share: the share, and the measured usage in each region. */
function crossRegionInputs(built: ReturnType<typeof buildUsage>, share: number): Record<string, string> {
  const x = built.usage.crossRegion;
  const work = (w: RegionWork) =>
    `${(w.tableWriteUnits + w.indexWriteUnits).toFixed(2)} WU (+${w.replicatedWriteUnits.toFixed(2)} replicated), ${w.readUnits.toFixed(2)} RU, stream records ${w.streamRecords}`;
  return {
    'cross-region share': `${share} (option)`,
    'cross-region usage': built.crossRegionProvenance,
    ...(x === undefined
      ? {}
      : {
          '  debit home, per transfer': work(x.debitHome),
          '  credit home, per transfer': work(x.creditHome),
        }),
  };
}

async function main(): Promise<void> {
  let values: ReturnType<typeof parse>;
  let crossRegionShare: number;
  try {
    values = parse(process.argv.slice(2));
    crossRegionShare = parseCrossRegionShare(values['cross-region-share']);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const tps = num('--tps', values.tps, 0.001, 1_000_000);
  if (tps === undefined) {
    console.error(`--tps is required\n\n${USAGE}`);
    process.exit(2);
  }
  const cdk = values['no-synth'] ? CDK_DEFAULTS : readCdkSettings(ROOT);
  const primary = REGION_PRICES[cdk.primaryRegion];
  const secondary = REGION_PRICES[cdk.secondaryRegion];
  if (primary === undefined || secondary === undefined) {
    throw new Error(`no prices for ${cdk.primaryRegion} / ${cdk.secondaryRegion} in tools/cost/prices.ts`);
  }
  const bench = readBench(resolve(values.results ?? resolve(ROOT, 'bench/results.json')));
  const overrides: UsageOverrides = Object.fromEntries(
    Object.entries({
      statusReadsPerTransfer: num('--status-reads', values['status-reads'], 0, 100),
      ingestMs: num('--ingest-ms', values['ingest-ms'], 1, 900_000),
      consumerMsPerRecord: num('--consumer-ms', values['consumer-ms'], 0.01, 900_000),
      recordsPerBatch: num('--batch', values.batch, 1, 10_000),
      writeUnitsScale: num('--write-units-scale', values['write-units-scale'], 0, 100),
    }).filter(([, v]) => v !== undefined),
  );
  const primaryShare = num('--primary-share', values['primary-share'], 0, 1) ?? 0.5;
  const built = buildUsage(tps, bench.inputs, cdk, overrides);
  const usage = built.usage;
  // At share 0 (the default) the output is what it was before cross-region transfers were priced.
  const provenance =
    crossRegionShare === 0
      ? built.provenance
      : { ...built.provenance, ...crossRegionInputs(built, crossRegionShare) };
  const report = costPerMillion({
    tps,
    primaryShare,
    crossRegionShare,
    primary,
    secondary,
    usage,
    fixed: buildFixed(cdk),
  });
  console.log(render(report, cdk, provenance, bench.note));
  if (values.json !== undefined) {
    writeFileSync(
      values.json,
      `${JSON.stringify({ report, usage, provenance, cdk, assumptions: ASSUMPTIONS, goalPerMillion: COST_GOAL_PER_MILLION, goal: GOALS }, null, 2)}\n`,
    );
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      tps: { type: 'string' },
      'primary-share': { type: 'string' },
      results: { type: 'string' },
      'status-reads': { type: 'string' },
      'ingest-ms': { type: 'string' },
      'consumer-ms': { type: 'string' },
      batch: { type: 'string' },
      'write-units-scale': { type: 'string' },
      'cross-region-share': { type: 'string' },
      'no-synth': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exit(1);
});
