import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { buildIngestApp } from '../../functions/ingest-api/app.js';
import { buildConsumerHandler } from '../../functions/ledger-consumer/consumer.js';
import { buildReconciler } from '../../functions/reconciler/reconciler.js';
import { type AwsClients, createClients } from '../../shared/adapters/clients.js';
import { loadConfig, type RuntimeConfig } from '../../shared/config.js';
import { type RunningEmulators, startEmulators } from './emulators.js';
import { PortInUseError } from './errors.js';
import { type KinesisBatchHandler, KinesisPoller } from './poller.js';
import { isPortFree } from './ports.js';
import { ensureStream, ensureTable } from './provision.js';
import { abortableSleep } from './timing.js';

export const API_PORT_DEFAULT = 3000;
export const REGION_DEFAULT = 'us-east-1';
export const TABLE_NAME_DEFAULT = 'edge-ledger-local';
export const STREAM_NAME_DEFAULT = 'edge-ledger-transfers-local';
export const SHARDS_DEFAULT = 2;
export const RECONCILE_INTERVAL_MS_DEFAULT = 1_000;
/** Locally a transfer ACCEPTED for 10 s without its record applied is re-enqueued (60 s on AWS). */
export const RECONCILE_GRACE_MS_LOCAL = 10_000;
/** How long stop() waits for a reconciler run still in flight. */
const RECONCILE_STOP_WAIT_MS = 5_000;

/**
 * The event source mapping of infra-cdk/constructs/ledger-consumer.ts (CONSUMER_EVENT_SOURCE), as far
 * as the local poller models it (no batching window, no parallelization factor: one batch per shard).
 */
export const LOCAL_EVENT_SOURCE = {
  batchSize: 100,
  bisectOnError: true,
  maxRetryAttempts: 10,
  maxRecordAgeSeconds: 24 * 60 * 60,
} as const;

export interface LocalStackOptions {
  /** Persist emulator data here. Ignored with `inMemory` or when emulators are not started by us. */
  readonly dataDir?: string | undefined;
  readonly inMemory?: boolean | undefined;
  /** API port; 0 picks a free one. Default 3000. A taken port is an error. */
  readonly port?: number | undefined;
  readonly region?: string | undefined;
  /** Region the ledger writes as (accounts homed here). Default: `region`. */
  readonly ledgerRegion?: string | undefined;
  readonly tableName?: string | undefined;
  readonly streamName?: string | undefined;
  /** Shards of a newly created stream (an existing one keeps its own). Default 2. */
  readonly shards?: number | undefined;
  readonly log?: ((line: string) => void) | undefined;
  /** Records per consumer invocation. Default 100, as the CDK mapping. */
  readonly consumerBatchSize?: number | undefined;
  /** Preferred emulator ports (default: any free port). */
  readonly dynamodbPort?: number | undefined;
  readonly kinesisPort?: number | undefined;
  /** When a preferred emulator port is taken, use a free one instead of failing. */
  readonly emulatorPortFallback?: boolean | undefined;
  /** Use emulators that already run (e.g. the test run's) instead of starting any. */
  readonly endpoints?: { readonly dynamodbEndpoint: string; readonly kinesisEndpoint: string } | undefined;
  /** Reconciler period (stale ACCEPTED re-enqueue, hold expiry); 0 disables it. Default 1 s. */
  readonly reconcileIntervalMs?: number | undefined;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly config: RuntimeConfig;
  readonly poller: KinesisPoller;
  /** The emulators this stack started; undefined with LocalStack or given endpoints. */
  readonly emulators: RunningEmulators | undefined;
  /** Milliseconds from the call to a serving API and a polling consumer. */
  readonly startupMs: number;
  /** Stops the API, the reconciler, the poller (in-flight batch finished), then the emulators. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The whole product on one machine: emulators (or LocalStack when AWS_ENDPOINT_URL is set), the
 * table and the stream, the HTTP API, the consumer fed by a local event source mapping, and the
 * reconciler on a timer.
 *
 * @example
 * const stack = await startLocalStack({ inMemory: true, port: 0 });
 * await fetch(`${stack.apiUrl}/health`);
 * await stack.stop();
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  // Locally: no CloudWatch to read EMF metric lines (they would drown the progress lines), and the
  // SDK's Node 20 deprecation notice is not actionable here (Lambda runs the newest Node).
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const began = Date.now();
  const log = opts.log ?? (() => {});
  const port = opts.port ?? API_PORT_DEFAULT;
  if (port !== 0 && !(await isPortFree(port))) throw new PortInUseError(port);
  const emulators = await maybeStartEmulators(opts, log);
  const stops: (() => Promise<void>)[] = emulators === undefined ? [] : [() => emulators.stop()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const config = buildConfig(opts, emulators);
    const clients = createClients(config);
    stops.push(async () => destroyClients(clients));
    await provision(clients, config, opts.shards ?? SHARDS_DEFAULT, log);
    const poller = await startConsumer(
      clients,
      config,
      buildConsumerHandler(config),
      log,
      opts.consumerBatchSize,
    );
    stops.push(() => poller.stop());
    const server = await listen(buildIngestApp(config).fetch, port);
    stops.push(() => closeServer(server));
    const reconciler = startReconcileLoop(
      buildReconciler(config, { graceMs: RECONCILE_GRACE_MS_LOCAL }),
      opts.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS_DEFAULT,
      log,
    );
    stops.push(reconciler.stop);
    const apiUrl = `http://localhost:${(server.address() as AddressInfo).port}`;
    log(`API on ${apiUrl}`);
    let stopping: Promise<void> | undefined;
    return {
      apiUrl,
      config,
      poller,
      emulators,
      startupMs: Date.now() - began,
      stop: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The emulators, unless endpoints are given or AWS_ENDPOINT_URL names LocalStack. */
export async function maybeStartEmulators(
  opts: Pick<
    LocalStackOptions,
    'endpoints' | 'inMemory' | 'dataDir' | 'dynamodbPort' | 'kinesisPort' | 'emulatorPortFallback'
  >,
  log: (line: string) => void,
): Promise<RunningEmulators | undefined> {
  if (opts.endpoints !== undefined) return undefined;
  const localstack = process.env.AWS_ENDPOINT_URL;
  if (localstack !== undefined && localstack !== '') {
    log(`AWS_ENDPOINT_URL is set: using ${localstack} (LocalStack), starting no emulator`);
    return undefined;
  }
  const dataDir = opts.inMemory === true ? undefined : opts.dataDir;
  log(dataDir === undefined ? 'Starting emulators (in memory)' : `Starting emulators (data in ${dataDir})`);
  return startEmulators({
    dataDir,
    dynamodbPort: opts.dynamodbPort,
    kinesisPort: opts.kinesisPort,
    portFallback: opts.emulatorPortFallback,
    log,
  });
}

function buildConfig(opts: LocalStackOptions, emulators: RunningEmulators | undefined): RuntimeConfig {
  const region = opts.region ?? process.env.AWS_REGION ?? REGION_DEFAULT;
  const endpoints = emulators ?? opts.endpoints;
  const env: Record<string, string | undefined> = {
    LEDGER_TABLE_NAME: opts.tableName ?? TABLE_NAME_DEFAULT,
    TRANSFER_STREAM_NAME: opts.streamName ?? STREAM_NAME_DEFAULT,
    AWS_REGION: region,
    LEDGER_REGION: opts.ledgerRegion,
  };
  if (endpoints === undefined) env.AWS_ENDPOINT_URL = process.env.AWS_ENDPOINT_URL;
  else {
    env.AWS_ENDPOINT_URL_DYNAMODB = endpoints.dynamodbEndpoint;
    env.AWS_ENDPOINT_URL_KINESIS = endpoints.kinesisEndpoint;
  }
  return loadConfig(env);
}

export async function provision(
  clients: AwsClients,
  config: RuntimeConfig,
  shards: number,
  log: (line: string) => void,
): Promise<void> {
  const [table, stream] = await Promise.all([
    ensureTable(clients.dynamodb, config.tableName),
    ensureStream(clients.kinesis, config.streamName, shards),
  ]);
  log(`Table ${config.tableName} ${table.created ? 'created' : 'found'} (TTL ${table.ttl})`);
  log(`Stream ${config.streamName} ${stream.created ? 'created' : 'found'} (${stream.shardCount} shards)`);
}

/** A local event source mapping (the CDK one's settings) feeding `handler` from the config's stream. */
export async function startConsumer(
  clients: AwsClients,
  config: RuntimeConfig,
  handler: KinesisBatchHandler,
  log: (line: string) => void,
  batchSize?: number,
): Promise<KinesisPoller> {
  const poller = new KinesisPoller({
    kinesis: clients.kinesis,
    dynamodb: clients.dynamodb,
    streamName: config.streamName,
    tableName: config.tableName,
    region: config.awsRegion,
    handler,
    ...LOCAL_EVENT_SOURCE,
    ...(batchSize === undefined ? {} : { batchSize }),
    log,
  });
  await poller.start();
  log(`Consumer polling ${poller.checkpoints.size} shard(s)`);
  return poller;
}

export function listen(fetch: Parameters<typeof serve>[0]['fetch'], port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port }) as Server;
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, { cause: error }) : error),
    );
    server.once('listening', () => resolve(server));
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function destroyClients(clients: AwsClients): void {
  clients.dynamodb.destroy();
  clients.kinesis.destroy();
}

/** Runs the reconciler every `intervalMs`, never two runs at once; logs a result that did something. */
export function startReconcileLoop(
  reconcile: () => Promise<object>,
  intervalMs: number,
  log: (line: string) => void,
): { stop: () => Promise<void> } {
  if (intervalMs <= 0) return { stop: async () => {} };
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = reconcile()
      .then((result) => {
        const counts = Object.entries(result).filter(([, value]) => typeof value === 'number' && value !== 0);
        if (counts.length > 0)
          log(`Reconciler: ${counts.map(([key, value]) => `${key} ${value}`).join(', ')}`);
      })
      .catch((error: unknown) =>
        log(`Reconciler failed: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      if (running !== undefined) await Promise.race([running, abortableSleep(RECONCILE_STOP_WAIT_MS)]);
    },
  };
}
