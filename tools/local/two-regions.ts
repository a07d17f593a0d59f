import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { buildIngestApp } from '../../functions/ingest-api/app.js';
import { quietLog } from '../../functions/ingest-api/logging.js';
import { buildConsumerHandler } from '../../functions/ledger-consumer/consumer.js';
import { buildReconciler } from '../../functions/reconciler/reconciler.js';
import { type AwsClients, createClients } from '../../shared/adapters/clients.js';
import { DynamoLedgerStore } from '../../shared/adapters/dynamo-ledger-store.js';
import { DynamoRegionAdmin } from '../../shared/adapters/dynamo-region-admin.js';
import { loadConfig, type RuntimeConfig } from '../../shared/config.js';
import type { RegionAdmin } from '../../shared/ports/region-admin.js';
import { FailoverService } from '../../shared/services/failover-service.js';
import type { RunningEmulators } from './emulators.js';
import { LocalStackError, PortInUseError } from './errors.js';
import type { KinesisPoller } from './poller.js';
import { isPortFree } from './ports.js';
import { gatedRequestHandler, RegionNetwork } from './region-network.js';
import { TableReplicator } from './replicator.js';
import {
  closeServer,
  listen,
  maybeStartEmulators,
  provision,
  RECONCILE_GRACE_MS_LOCAL,
  RECONCILE_INTERVAL_MS_DEFAULT,
  startConsumer,
  startReconcileLoop,
} from './stack.js';

/** The two regions of the CDK app (infra-cdk), simulated on one machine. */
export const REGION_NAMES = ['us-east-2', 'ca-central-1'] as const;
export const API_PORTS_DEFAULT = [3000, 3001] as const;
export const REPLICATION_LAG_MS_DEFAULT = 250;
/** How often each region reads its own standing (ACTIVE / FENCED) to run or pause its consumer. */
const FENCE_WATCH_MS = 500;
/** A returning region waits at most this long for replication to catch up before it serves. */
const CATCH_UP_WAIT_MS = 60_000;
const SHARDS_PER_REGION = 2;

export const tableNameOf = (region: string): string => `edge-ledger-${region}`;
export const streamNameOf = (region: string): string => `edge-ledger-transfers-${region}`;

/** A region's table and stream names. */
export interface RegionNames {
  readonly tableName: string;
  readonly streamName: string;
}

/**
 * The runtime configuration of `region` in a deployment of `regions` on local endpoints: its own
 * names, and every region's in LEDGER_REGIONS (as the CDK stack sets them on AWS).
 */
export function localRegionConfig(
  region: string,
  regions: readonly string[],
  names: (region: string) => RegionNames,
  endpoints: { readonly dynamodbEndpoint: string; readonly kinesisEndpoint: string },
): RuntimeConfig {
  return loadConfig({
    LEDGER_TABLE_NAME: names(region).tableName,
    TRANSFER_STREAM_NAME: names(region).streamName,
    AWS_REGION: region,
    LEDGER_REGION: region,
    LEDGER_REGIONS: JSON.stringify(Object.fromEntries(regions.map((r) => [r, names(r)]))),
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesisEndpoint,
  });
}

export interface TwoRegionOptions {
  readonly dataDir?: string | undefined;
  readonly inMemory?: boolean | undefined;
  /** API ports of region 1 and region 2 (0: any free port). Default 3000 and 3001. */
  readonly ports?: readonly [number, number] | undefined;
  /** Use emulators that already run instead of starting any. */
  readonly endpoints?: { readonly dynamodbEndpoint: string; readonly kinesisEndpoint: string } | undefined;
  readonly dynamodbPort?: number | undefined;
  readonly kinesisPort?: number | undefined;
  readonly emulatorPortFallback?: boolean | undefined;
  /** Table and stream names get this suffix (tests run side by side on one emulator). */
  readonly nameSuffix?: string | undefined;
  readonly replicationLagMs?: number | undefined;
  readonly reconcileIntervalMs?: number | undefined;
  readonly reconcileGraceMs?: number | undefined;
  readonly log?: ((line: string) => void) | undefined;
  /** The functions' own JSON log lines (access log, consumer warnings). Default true. */
  readonly serviceLogs?: boolean | undefined;
}

/** One simulated region: its API, consumer and reconciler, and what stops them. */
interface RegionRuntime {
  readonly name: string;
  readonly config: RuntimeConfig;
  readonly clients: AwsClients;
  readonly store: DynamoLedgerStore;
  apiUrl: string;
  port: number;
  server: Server | undefined;
  poller: KinesisPoller | undefined;
  reconciler: { stop: () => Promise<void> } | undefined;
  fenceWatch: NodeJS.Timeout | undefined;
  up: boolean;
}

export interface RegionStatus {
  readonly region: string;
  readonly apiUrl: string;
  readonly up: boolean;
  readonly consumer: 'running' | 'paused (fenced)' | 'stopped';
  readonly tableName: string;
  readonly streamName: string;
}

export interface TwoRegionStack {
  readonly regions: readonly string[];
  readonly apiUrls: Readonly<Record<string, string>>;
  readonly network: RegionNetwork;
  readonly replicator: TableReplicator;
  readonly emulators: RunningEmulators | undefined;
  readonly endpoints: { readonly dynamodbEndpoint: string; readonly kinesisEndpoint: string };
  readonly startupMs: number;
  configOf(region: string): RuntimeConfig;
  status(): readonly RegionStatus[];
  /** The region stops: its API, consumer and reconciler; no call reaches it, nothing replicates to or from it. */
  outage(region: string): Promise<void>;
  /** The region returns: replication from the other region catches up first, then it serves (fenced if failed over). */
  restore(region: string): Promise<void>;
  /** Cuts replication and every cross-region call between the two regions; `heal` undoes it. */
  partition(): void;
  heal(): void;
  /** The operator's failover and failback, over the two tables (what `npm run ops` does). */
  failover(from: string, to: string): ReturnType<FailoverService['failover']>;
  failback(region: string, from: string): ReturnType<FailoverService['failback']>;
  /** Puts void writes of a fenced region back to ACCEPTED where that is exact (`npm run ops -- reapply`). */
  reapply(region: string): ReturnType<FailoverService['reapply']>;
  stop(): Promise<void>;
}

/**
 * Two regions on one machine, as on AWS: each with its own table (a replica of the global table),
 * stream, consumer, reconciler and API; a replicator that copies each table's changes to the other
 * item by item, last writer wins, after a lag; a network that can cut a region off (an outage) or
 * the two from each other (a partition).
 */
export async function startTwoRegions(opts: TwoRegionOptions = {}): Promise<TwoRegionStack> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const began = Date.now();
  const log = opts.log ?? (() => {});
  const ports = opts.ports ?? API_PORTS_DEFAULT;
  for (const port of ports) if (port !== 0 && !(await isPortFree(port))) throw new PortInUseError(port);
  const emulators = await maybeStartEmulators(opts, log);
  // Given endpoints, the emulators started here, or LocalStack's (AWS_ENDPOINT_URL).
  const localstack = process.env.AWS_ENDPOINT_URL ?? 'unreachable';
  const endpoints = opts.endpoints ??
    emulators ?? { dynamodbEndpoint: localstack, kinesisEndpoint: localstack };
  const network = new RegionNetwork();
  const suffix = opts.nameSuffix ?? '';
  const names = (region: string) => ({
    tableName: `${tableNameOf(region)}${suffix}`,
    streamName: `${streamNameOf(region)}${suffix}`,
  });
  const runtimes = new Map<string, RegionRuntime>();
  let replicator: TableReplicator | undefined;
  const stopAll = async (): Promise<void> => {
    for (const runtime of runtimes.values()) await stopRegion(runtime);
    await replicator?.stop();
    for (const runtime of runtimes.values()) {
      runtime.clients.dynamodb.destroy();
      runtime.clients.kinesis.destroy();
    }
    await emulators?.stop();
  };
  try {
    for (const [i, region] of REGION_NAMES.entries()) {
      const config = localRegionConfig(region, REGION_NAMES, names, endpoints);
      const clients = createClients(config);
      await provision(clients, config, SHARDS_PER_REGION, (line) => log(`${region}: ${line}`));
      runtimes.set(region, {
        name: region,
        config,
        clients,
        store: new DynamoLedgerStore(clients.dynamodb, config.tableName, undefined, { region }),
        apiUrl: '',
        port: ports[i] ?? 0,
        server: undefined,
        poller: undefined,
        reconciler: undefined,
        fenceWatch: undefined,
        up: false,
      });
    }
    replicator = new TableReplicator({
      endpoint: endpoints.dynamodbEndpoint,
      tables: REGION_NAMES.map((region) => ({ region, tableName: names(region).tableName })) as [
        { region: string; tableName: string },
        { region: string; tableName: string },
      ],
      lagMs: opts.replicationLagMs ?? REPLICATION_LAG_MS_DEFAULT,
      network,
      log,
    });
    await replicator.start();
    for (const runtime of runtimes.values()) await startRegion(runtime, network, opts, log);
  } catch (error) {
    await stopAll();
    throw error;
  }
  const runtimeOf = (region: string): RegionRuntime => {
    const r = runtimes.get(region);
    if (r === undefined)
      throw new LocalStackError(`unknown region ${region} (regions: ${REGION_NAMES.join(', ')})`);
    return r;
  };
  const repl = replicator;
  const failovers = new FailoverService({
    admins: new Map<string, RegionAdmin>(
      [...runtimes.values()].map((r) => [
        r.name,
        new DynamoRegionAdmin(r.clients.dynamodb, r.config.tableName, r.name),
      ]),
    ),
    log,
  });
  let stopping: Promise<void> | undefined;
  const apiUrls: Record<string, string> = {};
  for (const r of runtimes.values()) apiUrls[r.name] = r.apiUrl;
  return {
    regions: REGION_NAMES,
    apiUrls,
    network,
    replicator: repl,
    emulators,
    endpoints,
    startupMs: Date.now() - began,
    configOf: (region) => runtimeOf(region).config,
    status: () =>
      [...runtimes.values()].map((r) => ({
        region: r.name,
        apiUrl: r.apiUrl,
        up: r.up,
        consumer: r.poller !== undefined ? 'running' : r.up ? 'paused (fenced)' : 'stopped',
        tableName: r.config.tableName,
        streamName: r.config.streamName,
      })),
    outage: async (region) => {
      const runtime = runtimeOf(region);
      network.down(region);
      await stopRegion(runtime);
      log(`${region}: OUTAGE (API, consumer and reconciler stopped; unreachable; not replicating)`);
    },
    restore: async (region) => {
      const runtime = runtimeOf(region);
      if (runtime.up) return;
      network.up(region);
      for (const other of REGION_NAMES) {
        if (other === region) continue;
        const caught = await repl.caughtUp(other, region, CATCH_UP_WAIT_MS);
        log(`${region}: replication from ${other} ${caught ? 'caught up' : 'NOT caught up (timeout)'}`);
      }
      await startRegion(runtime, network, opts, log);
      log(`${region}: back (its consumer stays paused while the region is fenced)`);
    },
    partition: () => {
      network.partition();
      log('PARTITION: no replication, no cross-region call');
    },
    heal: () => {
      network.heal();
      log('partition healed');
    },
    failover: (from, to) => failovers.failover(from, to),
    failback: (region, from) => failovers.failback(region, from),
    reapply: (region) => failovers.reapply(region),
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

async function startRegion(
  runtime: RegionRuntime,
  network: RegionNetwork,
  opts: TwoRegionOptions,
  log: (line: string) => void,
): Promise<void> {
  const from = runtime.name;
  const requestHandlerFor = (to: string) =>
    gatedRequestHandler(
      network,
      from,
      to,
      new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 10_000 }),
    );
  const say = (line: string) => log(`${from}: ${line}`);
  const quiet = opts.serviceLogs === false;
  const server = await listen(
    buildIngestApp(runtime.config, { requestHandlerFor, ...(quiet ? { log: quietLog } : {}) }).fetch,
    runtime.port,
  );
  runtime.server = server;
  runtime.port = (server.address() as AddressInfo).port;
  runtime.apiUrl = `http://localhost:${runtime.port}`;
  runtime.reconciler = startReconcileLoop(
    buildReconciler(runtime.config, {
      graceMs: opts.reconcileGraceMs ?? RECONCILE_GRACE_MS_LOCAL,
      requestHandlerFor,
    }),
    opts.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS_DEFAULT,
    say,
  );
  const handler = buildConsumerHandler(runtime.config, {
    requestHandlerFor,
    ...(quiet ? { logger: new Logger({ serviceName: 'ledger-consumer', logLevel: 'SILENT' }) } : {}),
  });
  // The consumer runs only while the region is not fenced (a failover moved its accounts away).
  let busy = false;
  const watch = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const fenced = (await runtime.store.getRegionControl(from))?.status === 'FENCED';
      if (fenced && runtime.poller !== undefined) {
        const poller = runtime.poller;
        runtime.poller = undefined;
        await poller.stop();
        say('fenced: consumer paused');
      } else if (!fenced && runtime.poller === undefined && runtime.up) {
        const poller = await startConsumer(runtime.clients, runtime.config, handler, say);
        if (!runtime.up) {
          await poller.stop();
          return;
        }
        runtime.poller = poller;
      }
    } catch (error) {
      say(`fence check failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      busy = false;
    }
  };
  runtime.up = true;
  await watch();
  runtime.fenceWatch = setInterval(() => void watch(), FENCE_WATCH_MS);
  runtime.fenceWatch.unref();
  say(`API on ${runtime.apiUrl}`);
}

async function stopRegion(runtime: RegionRuntime): Promise<void> {
  runtime.up = false;
  if (runtime.fenceWatch !== undefined) clearInterval(runtime.fenceWatch);
  runtime.fenceWatch = undefined;
  const server = runtime.server;
  runtime.server = undefined;
  if (server !== undefined) await closeServer(server);
  const reconciler = runtime.reconciler;
  runtime.reconciler = undefined;
  await reconciler?.stop();
  const poller = runtime.poller;
  runtime.poller = undefined;
  await poller?.stop();
}
