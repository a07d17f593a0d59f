/**
 * Test tooling, started by the chaos runner (never by production code): the local stack exactly as
 * `npm start` composes it (startEmulators on a data dir, then startLocalStack), with a fault proxy
 * between the stack and each emulator. Everything runs in this process and its children, in one
 * process group, so the runner can SIGKILL all of it at once.
 *
 *   node --import tsx tools/chaos/stack-process.ts --data-dir <dir> [--seed n] [--profile heavy]
 *
 * Stdout carries one JSON object per line: {"event":"ready",...} once the API serves, then
 * {"event":"stats",...} every STATS_INTERVAL_MS, {"event":"log","line":...} for the stack's own log
 * lines, and {"event":"stopped"} after a graceful stop (SIGINT or SIGTERM). SIGUSR2 arms a
 * self-kill: the whole process group is SIGKILLed right after one of the next few consumer
 * transactions was applied by DynamoDB and before the consumer hears of it.
 */
import { parseArgs } from 'node:util';
import { buildReconciler } from '../../functions/reconciler/reconciler.js';
import { startEmulators } from '../local/emulators.js';
import { startLocalStack } from '../local/stack.js';
import { type FaultProxy, NO_FAULTS, startFaultProxy } from './fault-proxy.js';
import { FAULT_PROFILES, type FaultProfile, isFaultProfileName } from './profile.js';
import { Random } from './random.js';

const STATS_INTERVAL_MS = 250;
/** The armed self-kill fires after 1..this many further applied transactions. */
const ARMED_TRANSACTIONS_MAX = 4;
const STOP_TIMEOUT_MS = 20_000;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    profile: { type: 'string', default: 'heavy' },
    'reconcile-grace-ms': { type: 'string', default: '3000' },
    'reconcile-interval-ms': { type: 'string', default: '1000' },
  },
  strict: true,
});
const dataDir = values['data-dir'];
if (dataDir === undefined) throw new Error('--data-dir is required');
const profileName = values.profile;
if (!isFaultProfileName(profileName)) throw new Error(`unknown --profile ${profileName}`);
const profile: FaultProfile = FAULT_PROFILES[profileName];
const random = new Random(Number(values.seed));

const emit = (event: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...fields })}\n`);
};
const log = (line: string): void => emit('log', { line });

let armed: number | undefined;
process.on('SIGUSR2', () => {
  armed = random.int(1, ARMED_TRANSACTIONS_MAX);
  log(`self-kill armed: after ${armed} more applied transaction(s)`);
});
const onTransactionApplied = (): void => {
  if (armed === undefined) return;
  armed -= 1;
  // Process group 0 is our own: the emulators, the reaper and this process die together, while
  // the consumer still waits for the answer of a transaction DynamoDB has applied.
  if (armed <= 0) process.kill(0, 'SIGKILL');
};

const emulators = await startEmulators({ dataDir, log });
const proxies: FaultProxy[] = await Promise.all([
  startFaultProxy({
    service: 'dynamodb',
    target: emulators.dynamodbEndpoint,
    random: random.fork(1),
    onTransactionApplied,
  }),
  startFaultProxy({ service: 'kinesis', target: emulators.kinesisEndpoint, random: random.fork(2) }),
]);
const [dynamodbProxy, kinesisProxy] = proxies as [FaultProxy, FaultProxy];
const stack = await startLocalStack({
  endpoints: { dynamodbEndpoint: dynamodbProxy.endpoint, kinesisEndpoint: kinesisProxy.endpoint },
  port: Number(values.port),
  // Our own reconciler loop below: the stack's uses the 60 s production grace period.
  reconcileIntervalMs: 0,
  log,
});
const reconcile = buildReconciler(stack.config, { graceMs: Number(values['reconcile-grace-ms']) });
let reconciling: Promise<unknown> | undefined;
const reconcileTimer = setInterval(() => {
  reconciling ??= reconcile()
    .then((result) => {
      if (result.found > 0) log(`Reconciler: found ${result.found}, re-enqueued ${result.reenqueued}`);
    })
    .catch((error: unknown) => log(`Reconciler failed: ${(error as Error).message}`))
    .finally(() => {
      reconciling = undefined;
    });
}, Number(values['reconcile-interval-ms']));

// Faults start once the stack serves: provisioning and start-up are not what is under test.
let storm = false;
let phaseEndsAt = Date.now() + profile.calmMs;
const applyRates = (): void => {
  for (const proxy of proxies) proxy.setRates(storm ? profile.storm : profile.calm);
};
applyRates();
const statsTimer = setInterval(() => {
  if (profile.stormMs > 0 && Date.now() >= phaseEndsAt) {
    storm = !storm;
    phaseEndsAt = Date.now() + (storm ? profile.stormMs : profile.calmMs);
    applyRates();
  }
  emit('stats', {
    storm,
    dynamodb: dynamodbProxy.stats(),
    kinesis: kinesisProxy.stats(),
    poller: stack.poller.counters,
  });
}, STATS_INTERVAL_MS);

emit('ready', {
  apiUrl: stack.apiUrl,
  dynamodbEndpoint: emulators.dynamodbEndpoint,
  kinesisEndpoint: emulators.kinesisEndpoint,
  tableName: stack.config.tableName,
  streamName: stack.config.streamName,
  region: stack.config.awsRegion,
  pids: emulators.pids,
  startupMs: stack.startupMs + emulators.startupMs.total,
});

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
  clearInterval(reconcileTimer);
  clearInterval(statsTimer);
  for (const proxy of proxies) proxy.setRates(NO_FAULTS);
  (async () => {
    await reconciling;
    await stack.stop();
    const final = {
      dynamodb: dynamodbProxy.stats(),
      kinesis: kinesisProxy.stats(),
      poller: stack.poller.counters,
    };
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await emulators.stop();
    emit('stopped', final);
    process.exit(0);
  })().catch((error: unknown) => {
    log(`stop failed: ${(error as Error).message}`);
    process.exit(1);
  });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
