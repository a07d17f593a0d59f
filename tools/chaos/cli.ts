import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FAULT_PROFILES, isFaultProfileName } from './profile.js';
import { freshSeed } from './random.js';
import { renderReport } from './report.js';
import { CHAOS_DEFAULTS, type ChaosOptions, runChaos } from './run.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

const USAGE = `Usage: npm run chaos -- [options]

Runs a bank workload through the HTTP API of the local stack while injecting faults, SIGKILLs the
whole stack (its process group: API, consumer, reconciler, emulators) at random points and restarts
it on the same data dir, then waits for the pipeline to drain and audits the ledger. Prints a table
and exits 0 only if no accepted transfer was lost or applied twice and the ledger balances.

Faults, between the stack and the emulators (tools/chaos/fault-proxy.ts): Kinesis PutRecords refusing
entries, throttled Kinesis and DynamoDB calls, TransactionCanceledException (TransactionConflict),
writes applied but answered 500 (so the SDK resends them), GetRecords pages delivered twice; a second
consumer replays processed records in reverse order; every few rounds the stack is plain \`npm start\`.

Kills cycle through: the whole process group at a random moment; the whole group right after DynamoDB
applied a consumer transaction (mid-batch); every node process but not the emulators (left orphaned,
the next start must stop them); the whole group with kinesis-mock's data file left half-written.

Options:
  --duration <s>        seconds of workload under faults (default ${CHAOS_DEFAULTS.durationSeconds})
  --clients <n>         concurrent API clients (default ${CHAOS_DEFAULTS.clients})
  --accounts <n>        customer accounts, plus a treasury per currency (default ${CHAOS_DEFAULTS.accounts})
  --kills <n>           SIGKILLs of the stack during the workload (default ${CHAOS_DEFAULTS.kills})
  --seed <n>            seed of every random choice (default: from the clock; printed)
  --faults <profile>    ${Object.keys(FAULT_PROFILES).join(' | ')} (default ${CHAOS_DEFAULTS.profile})
  --plain-every <n>     every n-th round runs plain \`npm start\` without proxies; 0: never (default ${CHAOS_DEFAULTS.plainEvery})
  --no-replay           do not replay processed records through a second consumer
  --drain-timeout <s>   how long to wait for every accepted transfer to be final (default ${CHAOS_DEFAULTS.drainTimeoutSeconds})
  --data-dir <dir>      keep the stack's data here (default: a temporary dir, removed at the end)
  --keep-data           keep the temporary data dir
  --json <file>         also write the report as JSON
  -h, --help            show this help

Exit status: 0 all guarantees held, 1 a guarantee was broken (see VIOLATIONS), 2 bad usage.
Needs Java 17+ (DynamoDB Local). The defaults take about 5-6 minutes on 2 cores.`;

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function parseCli(argv: readonly string[]): {
  help: boolean;
  json: string | undefined;
  options: ChaosOptions;
} {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      clients: { type: 'string' },
      accounts: { type: 'string' },
      kills: { type: 'string' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      'plain-every': { type: 'string' },
      'no-replay': { type: 'boolean', default: false },
      'drain-timeout': { type: 'string' },
      'data-dir': { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const profile = values.faults ?? CHAOS_DEFAULTS.profile;
  if (!isFaultProfileName(profile))
    throw new RangeError(`--faults must be one of ${Object.keys(FAULT_PROFILES).join(', ')}`);
  return {
    help: values.help,
    json: values.json,
    options: {
      durationSeconds: integer('--duration', values.duration, CHAOS_DEFAULTS.durationSeconds, 5, 3_600),
      clients: integer('--clients', values.clients, CHAOS_DEFAULTS.clients, 1, 64),
      accounts: integer('--accounts', values.accounts, CHAOS_DEFAULTS.accounts, 4, 10_000),
      kills: integer('--kills', values.kills, CHAOS_DEFAULTS.kills, 0, 50),
      seed: integer('--seed', values.seed, freshSeed(), 0, 4_294_967_295),
      profile,
      plainEvery: integer('--plain-every', values['plain-every'], CHAOS_DEFAULTS.plainEvery, 0, 50),
      replay: !values['no-replay'],
      drainTimeoutSeconds: integer(
        '--drain-timeout',
        values['drain-timeout'],
        CHAOS_DEFAULTS.drainTimeoutSeconds,
        5,
        3_600,
      ),
      reconcileGraceMs: CHAOS_DEFAULTS.reconcileGraceMs,
      dataDir: values['data-dir'],
      keepData: values['keep-data'],
      log: (line) => console.error(`[chaos +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`),
    },
  };
}

const started = Date.now();

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
  process.once('SIGTERM', () => process.exit(EXIT_INTERRUPTED));
  cli.options.log(`seed ${cli.options.seed} (repeat with --seed ${cli.options.seed})`);
  const report = await runChaos(cli.options);
  console.log(renderReport(report));
  if (cli.json !== undefined) {
    writeFileSync(
      cli.json,
      `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v), 2)}\n`,
    );
  }
  return report.ok ? 0 : EXIT_FAILED;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('chaos run failed:', error);
    process.exit(EXIT_FAILED);
  },
);
