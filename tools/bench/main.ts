import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulators } from '../local/emulators.js';
import { type BundledFunction, bundleFunction } from './bundle.js';
import { type E2eResult, measureEndToEnd } from './e2e.js';
import {
  type CpuComparison,
  compareCpu,
  compareInit,
  type InitComparison,
  lambdaEnv,
  startFakeAws,
} from './functions.js';
import { GOALS, type GoalName, judge, type Row, renderTable } from './goals.js';
import type { Endpoints } from './ledger.js';
import {
  type HotAccountResult,
  measureConsumerSpeedup,
  measureHotAccount,
  measureWriteUnits,
  type SpeedupResult,
  type WriteUnitsResult,
} from './ledger-figures.js';
import { round } from './stats.js';
import { type CrossRegionResult, measureCrossRegion, type RegionUsage } from './xregion.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STEPS = ['init', 'cpu', 'units', 'xregion', 'hot', 'speedup', 'e2e'] as const;
type Step = (typeof STEPS)[number];

const USAGE = `Usage: npm run bench -- [options]

Measures the performance figures of docs/PERFORMANCE.md in one run (a few minutes on 2 cores) and
writes them to bench/results.json (scratch files go to bench/tmp/, git-ignored):

  ingest_init_ratio        cold init of the CDK-bundled ingest function / that of a floor bundle
  consumer_init_ratio      the same for the ledger consumer
  ingest_cpu_ratio         warm CPU per POST /v1/transfers / that of a floor handler (fake AWS endpoint)
  write_units_per_transfer DynamoDB write units per posted transfer (captured requests, documented rules)
  cross-region usage       write units, read units and stream records per transfer between accounts
                           homed in different regions, by region (informative; for npm run cost)
  hot_account_item_writes_per_transfer   writes to a hot account's item per transfer (50% hot)
  consumer_speedup_vs_naive   real consumer throughput / a naive sequential consumer (DynamoDB Local)
  local end-to-end         accept and accept-to-posted latency through the local stack (informative)

Needs Java 17+ (DynamoDB Local). Starts its own emulators in memory and stops them at the end.

Options:
  --out <file>        results file (default bench/results.json)
  --only <steps>      comma-separated subset of: ${STEPS.join(', ')}
  --quick             smaller samples (a smoke run, about a minute; figures are noisier)
  --init-runs <n>     cold starts per bundle (default 15)
  --e2e-rate <r>      offered transfers/s for the end-to-end run (default 20)
  --e2e-duration <s>  seconds of end-to-end load (default 15)
  -h, --help          show this help`;

interface Settings {
  readonly out: string;
  readonly steps: ReadonlySet<Step>;
  readonly quick: boolean;
  readonly initRuns: number;
  readonly e2eRate: number;
  readonly e2eDurationS: number;
}

function parseCli(argv: readonly string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      out: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'init-runs': { type: 'string' },
      'e2e-rate': { type: 'string' },
      'e2e-duration': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const steps = (values.only ?? STEPS.join(',')).split(',').map((s) => s.trim());
  for (const s of steps)
    if (!(STEPS as readonly string[]).includes(s)) throw new Error(`unknown step "${s}"`);
  const int = (name: string, raw: string | undefined, fallback: number, max: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new Error(`${name} must be an integer from 1 to ${max}`);
    return n;
  };
  const quick = values.quick;
  return {
    out: resolve(values.out ?? resolve(ROOT, 'bench/results.json')),
    steps: new Set(steps as Step[]),
    quick,
    initRuns: int('--init-runs', values['init-runs'], quick ? 5 : 15, 200),
    e2eRate: int('--e2e-rate', values['e2e-rate'], 20, 10_000),
    e2eDurationS: int('--e2e-duration', values['e2e-duration'], quick ? 8 : 15, 3_600),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const began = performance.now();
  log(`- ${label}...`);
  const result = await fn();
  log(`  done in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  return result;
}

interface Measured {
  bundles?: Record<string, BundledFunction>;
  ingestInit?: InitComparison;
  consumerInit?: InitComparison;
  ingestCpu?: CpuComparison;
  units?: WriteUnitsResult;
  xregion?: CrossRegionResult;
  hot?: HotAccountResult;
  speedup?: SpeedupResult;
  e2e?: E2eResult;
}

async function measure(s: Settings, tmp: string): Promise<Measured> {
  const m: Measured = {};
  const wants = (step: Step) => s.steps.has(step);
  if (wants('init') || wants('cpu')) {
    const out = resolve(tmp, 'bundles');
    const entries = {
      ingest: 'functions/ingest-api/handler.ts',
      'ingest-floor': 'tools/bench/floors/ingest-floor.ts',
      consumer: 'functions/ledger-consumer/handler.ts',
      'consumer-floor': 'tools/bench/floors/consumer-floor.ts',
    };
    const built = await timed('bundling with the CDK esbuild options', () =>
      Promise.all(Object.entries(entries).map(([name, entry]) => bundleFunction(ROOT, name, entry, out))),
    );
    m.bundles = Object.fromEntries(built.map((b) => [b.name, b]));
  }
  const b = (name: string) => {
    const bundle = m.bundles?.[name];
    if (bundle === undefined) throw new Error(`bundle ${name} missing`);
    return bundle;
  };
  if (wants('init')) {
    m.ingestInit = await timed(`ingest cold init x${s.initRuns}`, () =>
      compareInit(b('ingest'), b('ingest-floor'), lambdaEnv('ingest-api'), s.initRuns),
    );
    m.consumerInit = await timed(`consumer cold init x${s.initRuns}`, () =>
      compareInit(b('consumer'), b('consumer-floor'), lambdaEnv('ledger-consumer'), s.initRuns),
    );
  }
  if (wants('cpu')) {
    const fake = await startFakeAws();
    try {
      m.ingestCpu = await timed('ingest warm CPU', () =>
        compareCpu(b('ingest'), b('ingest-floor'), fake, {
          warmup: s.quick ? 100 : 300,
          requests: s.quick ? 500 : 2_000,
          rounds: s.quick ? 1 : 2,
          logDir: tmp,
        }),
      );
    } finally {
      await fake.stop();
    }
  }
  // DynamoDB Local slows down over its lifetime (tables and transactions accumulate, even deleted
  // ones): the throughput-sensitive steps each get fresh emulators.
  if (wants('units') || wants('xregion') || wants('hot')) {
    await withEmulators(async (emulators) => {
      if (wants('units')) {
        m.units = await timed('write units (uniform workload, captured requests)', () =>
          measureWriteUnits(emulators, { accounts: 100, transfers: s.quick ? 100 : 300, seed: 7 }),
        );
      }
      if (wants('xregion')) {
        m.xregion = await timed('cross-region transfers (two regions, captured requests)', () =>
          measureCrossRegion(emulators, { accounts: 100, transfers: s.quick ? 100 : 300, seed: 7 }),
        );
      }
      if (wants('hot')) {
        m.hot = await timed('hot account (50% of transfers)', () =>
          measureHotAccount(emulators, {
            accounts: 100,
            transfers: s.quick ? 200 : 600,
            hotShare: 0.5,
            seed: 11,
          }),
        );
      }
    });
  }
  if (wants('speedup')) {
    await withEmulators(async (emulators) => {
      m.speedup = await timed('consumer vs naive consumer', () =>
        measureConsumerSpeedup(emulators, {
          accounts: 200,
          realTransfers: s.quick ? 200 : 600,
          naiveTransfers: s.quick ? 100 : 200,
          seed: 21,
        }),
      );
    });
  }
  if (wants('e2e')) {
    await withEmulators(async (emulators) => {
      m.e2e = await timed(`local end-to-end at ${s.e2eRate}/s for ${s.e2eDurationS} s`, () =>
        measureEndToEnd(emulators, {
          rate: s.e2eRate,
          durationS: s.e2eDurationS,
          accounts: 100,
          tmpDir: tmp,
        }),
      );
    });
  }
  return m;
}

/** Runs `fn` on freshly started, in-memory emulators, stopped afterwards. */
async function withEmulators(fn: (endpoints: Endpoints) => Promise<void>): Promise<void> {
  const emulators = await timed('starting DynamoDB Local and kinesis-mock (in memory)', () =>
    startEmulators({}),
  );
  try {
    await fn(emulators);
  } finally {
    await emulators.stop();
  }
}

function figure(name: GoalName, value: number | undefined, detail: unknown) {
  const goal = GOALS[name];
  const v = value ?? Number.NaN;
  const verdict = judge(v, goal);
  return {
    value: Number.isNaN(v) ? null : round(v, 3),
    goal: `${goal.op} ${goal.target}`,
    met: verdict.met,
    verdict: verdict.text,
    detail,
  };
}

function figures(m: Measured) {
  return {
    ingest_init_ratio: figure('ingest_init_ratio', m.ingestInit?.ratio, m.ingestInit),
    consumer_init_ratio: figure('consumer_init_ratio', m.consumerInit?.ratio, m.consumerInit),
    ingest_cpu_ratio: figure('ingest_cpu_ratio', m.ingestCpu?.ratio, m.ingestCpu),
    write_units_per_transfer: figure('write_units_per_transfer', m.units?.perTransfer, m.units),
    hot_account_item_writes_per_transfer: figure(
      'hot_account_item_writes_per_transfer',
      m.hot?.perTransfer,
      m.hot,
    ),
    consumer_speedup_vs_naive: figure('consumer_speedup_vs_naive', m.speedup?.speedup, m.speedup),
  };
}

/** What tools/cost reads: per-transfer counts measured here. */
function costInputs(m: Measured) {
  const u = m.units;
  return {
    api_requests_per_transfer: 1,
    ingest_invocations_per_transfer: 1,
    consumer_records_per_transfer: 1,
    ingest_cpu_ms_per_request: m.ingestCpu?.subject.cpuMsPerRequest ?? null,
    ingest_log_bytes_per_request: m.ingestCpu?.subjectLogBytesPerRequest ?? null,
    consumer_cpu_ms_per_record: m.speedup?.real.cpuMsPerTransfer ?? null,
    write_units:
      u === undefined
        ? null
        : {
            ingest_table: u.ingest.tableWriteUnits,
            ingest_index: u.ingest.indexWriteUnits,
            consume_table: u.consume.tableWriteUnits,
            consume_index: u.consume.indexWriteUnits,
            replicated: u.ingest.replicatedWriteUnits + u.consume.replicatedWriteUnits,
          },
    read_units_per_transfer: u === undefined ? null : u.ingest.readUnits + u.consume.readUnits,
    cross_region:
      m.xregion === undefined
        ? null
        : { debit_home: regionInputs(m.xregion.debitHome), credit_home: regionInputs(m.xregion.creditHome) },
    stream_record_bytes: u?.streamRecordBytes ?? null,
    item_bytes_written_per_transfer: u?.itemBytesWrittenPerTransfer ?? null,
    item_bytes_created_per_transfer: u?.itemBytesCreatedPerTransfer ?? null,
  };
}

/** A region's share of a cross-region transfer, as tools/cost reads it (per transfer). */
function regionInputs(r: RegionUsage) {
  return {
    region: r.region,
    table_write_units: round(r.tableWriteUnits, 3),
    index_write_units: round(r.indexWriteUnits, 3),
    replicated_write_units: round(r.replicatedWriteUnits, 3),
    read_units: round(r.readUnits, 3),
    stream_records: round(r.streamRecords, 3),
    stream_record_bytes: round(r.streamRecordBytes, 1),
    item_bytes_written: round(r.itemBytesWritten, 1),
    item_bytes_created: round(r.itemBytesCreated, 1),
  };
}

const show = (v: number | undefined, digits = 2) =>
  v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
const kb = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 1024).toFixed(0)} KB`);

function rows(m: Measured, f: ReturnType<typeof figures>): Row[] {
  const row = (name: GoalName, value: number | undefined, digits = 2): Row => ({
    figure: name,
    value: show(value, digits),
    goal: f[name].goal,
    verdict: f[name].verdict,
  });
  const info = (figureName: string, value: string, note = ''): Row => ({
    figure: figureName,
    value,
    goal: '(info)',
    verdict: note,
  });
  const b = m.bundles;
  const e = m.e2e;
  return [
    row('ingest_init_ratio', m.ingestInit?.ratio),
    info(
      '  ingest / floor init (ms)',
      `${show(m.ingestInit?.subject.sinceProcessStartMs, 0)} / ${show(m.ingestInit?.floor.sinceProcessStartMs, 0)}`,
      `import alone ${show(m.ingestInit?.importRatio)}x, CPU ${show(m.ingestInit?.cpuRatio)}x`,
    ),
    info('  ingest / floor bundle', `${kb(b?.ingest?.bytes)} / ${kb(b?.['ingest-floor']?.bytes)}`),
    row('consumer_init_ratio', m.consumerInit?.ratio),
    info(
      '  consumer / floor init (ms)',
      `${show(m.consumerInit?.subject.sinceProcessStartMs, 0)} / ${show(m.consumerInit?.floor.sinceProcessStartMs, 0)}`,
      `import alone ${show(m.consumerInit?.importRatio)}x, CPU ${show(m.consumerInit?.cpuRatio)}x`,
    ),
    info('  consumer / floor bundle', `${kb(b?.consumer?.bytes)} / ${kb(b?.['consumer-floor']?.bytes)}`),
    row('ingest_cpu_ratio', m.ingestCpu?.ratio),
    info(
      '  ingest / floor CPU (ms/req)',
      `${show(m.ingestCpu?.subject.cpuMsPerRequest, 3)} / ${show(m.ingestCpu?.floor.cpuMsPerRequest, 3)}`,
    ),
    row('write_units_per_transfer', m.units?.perTransfer),
    info(
      '  ingest + consume (table+index)',
      m.units === undefined
        ? '-'
        : `${show(m.units.ingest.tableWriteUnits + m.units.ingest.indexWriteUnits)} + ${show(m.units.consume.tableWriteUnits + m.units.consume.indexWriteUnits)}`,
      'computed from captured items',
    ),
    ...crossRegionRows(m.xregion, info),
    row('hot_account_item_writes_per_transfer', m.hot?.perTransfer, 3),
    row('consumer_speedup_vs_naive', m.speedup?.speedup),
    info(
      '  consumer / naive (transfers/s)',
      `${show(m.speedup?.real.perSecond, 0)} / ${show(m.speedup?.naive.perSecond, 0)}`,
      'DynamoDB Local',
    ),
    info(
      '  speedup, AWS latency model',
      show(m.speedup?.latencyModel.speedup),
      `${show(m.speedup?.latencyModel.real.perSecond, 0)} / ${show(m.speedup?.latencyModel.naive.perSecond, 0)} transfers/s`,
    ),
    info(
      'local e2e accept p50 / p99 (ms)',
      e === undefined
        ? '-'
        : `${show(e.load.acceptLatencyMs.p50, 0)} / ${show(e.load.acceptLatencyMs.p99, 0)}`,
      e === undefined ? '' : `offered ${e.offeredRate}/s for ${e.durationS} s`,
    ),
    info(
      'local e2e accept-to-posted p50 / p99 (ms)',
      e === undefined
        ? '-'
        : `${show(e.load.acceptToPostedMs.p50, 0)} / ${show(e.load.acceptToPostedMs.p99, 0)}`,
      e === undefined ? '' : `${e.load.acceptToPostedMs.count} sampled`,
    ),
    info(
      'local e2e accepted / posted per s',
      e === undefined ? '-' : `${show(e.load.acceptedPerSecond, 1)} / ${show(e.postedPerSecond, 1)}`,
      e === undefined
        ? ''
        : `dropped ${e.load.dropped}, statuses ${JSON.stringify(e.load.statuses)}${e.drained ? '' : ', consumer had not caught up'}`,
    ),
  ];
}

function crossRegionRows(
  x: CrossRegionResult | undefined,
  info: (figure: string, value: string, note?: string) => Row,
): Row[] {
  const part = (r: RegionUsage) =>
    `${show(r.tableWriteUnits + r.indexWriteUnits)} WU, ${show(r.readUnits)} RU, ${show(r.streamRecords)} rec`;
  return [
    info(
      'cross_region_write_units_per_transfer',
      show(x?.perTransfer),
      x === undefined ? '' : `debit home ${part(x.debitHome)}; credit home ${part(x.creditHome)}`,
    ),
    info(
      '  same-region, two-region deployment',
      show(x === undefined ? undefined : x.sameRegion.tableWriteUnits + x.sameRegion.indexWriteUnits),
      x === undefined ? '' : part(x.sameRegion),
    ),
  ];
}

async function main(): Promise<void> {
  let settings: Settings | 'help';
  try {
    settings = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (settings === 'help') {
    console.log(USAGE);
    return;
  }
  // As the local stack does: no EMF lines from the consumer, no SDK notice about Node 20.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const tmp = resolve(ROOT, 'bench/tmp');
  mkdirSync(tmp, { recursive: true });
  const began = performance.now();
  const loadStart = loadavg();
  const m = await measure(settings, tmp);
  const f = figures(m);
  const durationS = (performance.now() - began) / 1000;
  const results = {
    schema: 1,
    generatedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationS: round(durationS, 1),
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      loadAverage1mStart: round(loadStart[0] ?? 0, 2),
      loadAverage1mEnd: round(loadavg()[0] ?? 0, 2),
      quick: settings.quick,
      note: 'Other processes on the machine share its cores; ratios are measured side by side to cancel most of that.',
    },
    figures: f,
    bundles: Object.fromEntries(
      Object.entries(m.bundles ?? {}).map(([k, v]) => [
        k,
        { bytes: v.bytes, sourceMapBytes: v.sourceMapBytes },
      ]),
    ),
    cross_region: m.xregion ?? null,
    e2e: m.e2e ?? null,
    cost_inputs: costInputs(m),
  };
  mkdirSync(dirname(settings.out), { recursive: true });
  writeFileSync(
    settings.out,
    `${JSON.stringify(results, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  console.log(renderTable(rows(m, f)));
  const met = Object.values(f).filter((x) => x.met).length;
  console.log(
    `\n${met} of ${Object.keys(f).length} goals met; bench took ${durationS.toFixed(0)} s; wrote ${settings.out}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
