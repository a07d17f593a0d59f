import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalStackError } from './errors.js';
import { CONTROL_PORT_DEFAULT, controlUrl, startControlServer } from './sim-control.js';
import { API_PORT_DEFAULT, type LocalStackOptions, SHARDS_DEFAULT, startLocalStack } from './stack.js';
import { REGION_NAMES, REPLICATION_LAG_MS_DEFAULT, startTwoRegions } from './two-regions.js';

/** Preferred emulator ports: DynamoDB Local's customary 8000, kinesis-mock's plain-HTTP 4568. */
const DYNAMODB_PORT_DEFAULT = 8000;
const KINESIS_PORT_DEFAULT = 4568;
const DATA_DIR_DEFAULT = fileURLToPath(new URL('../../.data', import.meta.url));
/** After a Ctrl-C, a stop that takes longer than this is cut short (exit code 1). */
const SHUTDOWN_TIMEOUT_MS = 15_000;
const SHARDS_MAX = 16;
const PORT_MAX = 65_535;
const EXIT_USAGE = 2;

const USAGE = `Usage: npm start -- [options]

Runs the whole product locally: DynamoDB Local and kinesis-mock (no Docker, no AWS account),
the HTTP API, the ledger consumer fed by a local Kinesis poller, and the reconciler.
With AWS_ENDPOINT_URL set (e.g. LocalStack), starts no emulator and uses that endpoint.

Options:
  --port <n>            API port (default ${API_PORT_DEFAULT}; 0 = any free port)
  --data-dir <dir>      keep emulator data here across restarts (default: .data/ in the repo)
  --in-memory           keep nothing: a fresh, empty ledger on every start
  --shards <n>          shards of the transfer stream when it is created (default ${SHARDS_DEFAULT})
  --dynamodb-port <n>   preferred DynamoDB Local port (default ${DYNAMODB_PORT_DEFAULT}, else a free one)
  --kinesis-port <n>    preferred kinesis-mock port (default ${KINESIS_PORT_DEFAULT}, else a free one)
  --two-regions         simulate two regions (${REGION_NAMES.join(' and ')}): APIs on --port and --port + 1,
                        each with its own table, stream, consumer and reconciler, and a replicator
                        between the tables (last writer wins). Control it with npm run ops (see README).
  --lag <ms>            replication lag with --two-regions (default ${REPLICATION_LAG_MS_DEFAULT})
  --control-port <n>    simulation control port with --two-regions (default ${CONTROL_PORT_DEFAULT})
  -h, --help            show this help

Ctrl-C (or SIGTERM) stops everything and exits 0. Requires Java 17+ for DynamoDB Local.`;

interface Cli {
  readonly help: boolean;
  readonly options: LocalStackOptions;
  readonly twoRegions?: { readonly lagMs: number; readonly controlPort: number } | undefined;
}

/** Parses argv (without node and script). Throws LocalStackError on a bad option. */
function parseCli(argv: readonly string[], log: (line: string) => void): Cli {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      shards: { type: 'string' },
      'dynamodb-port': { type: 'string' },
      'kinesis-port': { type: 'string' },
      'two-regions': { type: 'boolean', default: false },
      lag: { type: 'string' },
      'control-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values['in-memory'] && values['data-dir'] !== undefined) {
    throw new LocalStackError('--in-memory and --data-dir exclude each other');
  }
  if (!values['two-regions'] && (values.lag !== undefined || values['control-port'] !== undefined)) {
    throw new LocalStackError('--lag and --control-port need --two-regions');
  }
  return {
    help: values.help,
    twoRegions: values['two-regions']
      ? {
          lagMs: integer('--lag', values.lag, REPLICATION_LAG_MS_DEFAULT, 0, 60_000),
          controlPort: integer('--control-port', values['control-port'], CONTROL_PORT_DEFAULT, 1, PORT_MAX),
        }
      : undefined,
    options: {
      port: integer('--port', values.port, API_PORT_DEFAULT, 0, PORT_MAX),
      dataDir: values['in-memory'] ? undefined : (values['data-dir'] ?? DATA_DIR_DEFAULT),
      inMemory: values['in-memory'],
      shards: integer('--shards', values.shards, SHARDS_DEFAULT, 1, SHARDS_MAX),
      dynamodbPort: anyIfZero(
        integer('--dynamodb-port', values['dynamodb-port'], DYNAMODB_PORT_DEFAULT, 0, PORT_MAX),
      ),
      kinesisPort: anyIfZero(
        integer('--kinesis-port', values['kinesis-port'], KINESIS_PORT_DEFAULT, 0, PORT_MAX),
      ),
      emulatorPortFallback: true,
      log,
    },
  };
}

/** Port 0 means "any free port", which the emulators spell as no port. */
function anyIfZero(port: number): number | undefined {
  return port === 0 ? undefined : port;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new LocalStackError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

const log = (line: string): void => {
  console.log(line);
};

/** Stops the stack on the first SIGINT/SIGTERM/SIGHUP; exit 0 when it stopped in time. */
function stopOnSignals(stack: { stop(): Promise<void> }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return; // tsx and the terminal may both deliver the same Ctrl-C
    stopping = true;
    log(`${signal}: stopping...`);
    const began = Date.now();
    setTimeout(() => {
      log(`still stopping after ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    stack.stop().then(
      () => {
        log(`Stopped in ${((Date.now() - began) / 1000).toFixed(1)} s`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error('stop failed:', error);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

// The SDK's Node 20 notice is not actionable for a local tool (Lambda runs the newest Node).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2), log);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(EXIT_USAGE);
  }
  if (cli.help) {
    console.log(USAGE);
    return;
  }
  // A signal during start-up exits at once; the emulators' exit hook and reaper stop the children.
  const early = (signal: NodeJS.Signals): void => {
    log(`${signal} during start-up: exiting`);
    process.exit(130);
  };
  process.once('SIGINT', early);
  process.once('SIGTERM', early);
  if (cli.twoRegions !== undefined) {
    await startSimulation(cli.options, cli.twoRegions, early);
    return;
  }
  const stack = await startLocalStack(cli.options);
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  stopOnSignals(stack);
  log(`Ready in ${(stack.startupMs / 1000).toFixed(1)} s. Try: curl ${stack.apiUrl}/health   (Ctrl-C stops)`);
}

async function startSimulation(
  options: LocalStackOptions,
  sim: { readonly lagMs: number; readonly controlPort: number },
  early: (signal: NodeJS.Signals) => void,
): Promise<void> {
  const port = options.port ?? API_PORT_DEFAULT;
  const stack = await startTwoRegions({
    dataDir: options.dataDir,
    inMemory: options.inMemory,
    ports: [port, port === 0 ? 0 : port + 1],
    dynamodbPort: options.dynamodbPort,
    kinesisPort: options.kinesisPort,
    emulatorPortFallback: true,
    replicationLagMs: sim.lagMs,
    log,
  });
  const control = await startControlServer(stack, sim.controlPort).catch(async (error: unknown) => {
    await stack.stop();
    throw error;
  });
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  stopOnSignals({
    stop: async () => {
      control.close();
      control.closeAllConnections();
      await stack.stop();
    },
  });
  const [r1, r2] = stack.regions;
  log(`Ready in ${(stack.startupMs / 1000).toFixed(1)} s: two regions, replication lag ${sim.lagMs} ms.`);
  for (const s of stack.status()) log(`  ${s.region}: ${s.apiUrl}`);
  log(`  simulation control: ${controlUrl(control)} (npm run ops -- status | outage ${r1} | restore ${r1} |`);
  log(`  partition | heal | lag <ms> | failover --from ${r1} --to ${r2} | failback --to ${r1} --from ${r2})`);
  log('Ctrl-C stops everything.');
}

main().catch((error: unknown) => {
  console.error(error instanceof LocalStackError ? `error: ${error.message}` : error);
  process.exit(1);
});
