import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EmulatorStartError, JavaMissingError } from './errors.js';
import {
  KINESIS_PERSIST_FILE_NAME,
  keepLastGoodCopies,
  quarantineUnreadablePersistFile,
  waitForPersistFlush,
} from './kinesis-persist.js';
import { claimDataDir, clearLeftovers, currentOwner, type LockedChild, releaseDataDir } from './lock-file.js';
import { choosePort, findFreePort } from './ports.js';
import {
  hasExited,
  type OutputTail,
  startReaper,
  stopChild,
  waitForChildExit,
  watchOutput,
} from './processes.js';

/** Start-up budget per emulator: DynamoDB Local takes ~2 s on 2 cores, a loaded CI machine more. */
export const EMULATOR_READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 100;
/** kinesis-mock rewrites its whole persist file this often. */
export const KINESIS_PERSIST_INTERVAL_MS = 1_000;
/** How long stop() waits for the killed reaper to exit (bounded). */
const REAPER_EXIT_WAIT_MS = 5_000;
/** SIGTERM to SIGKILL for kinesis-mock: its SIGTERM cancels the persist loop, so a quick kill is safe. */
const KINESIS_STOP_GRACE_MS = 500;
/** kinesis-mock's SHARD_LIMIT counts every shard of every stream: tests create many streams. */
export const KINESIS_SHARD_LIMIT_DEFAULT = 1_000;
const JAVA_MAJOR_MIN = 17;
const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
const PROBE_REGION = 'us-east-1';

const DYNAMODB_MARKER = 'DynamoDBLocal.jar';
/**
 * DynamoDB Local copies its SQLite native library into java.io.tmpdir on every start (~0.9 MB) and
 * deletes it only on a clean exit: give it a directory of ours and sweep what killed runs left.
 */
const JAVA_TMP_DIR = join(tmpdir(), 'edge-ledger-dynamodb-local');
const NATIVE_LIB_PATTERN = /^sqlite-.*libsqlite4java\.so$/;
/** Old enough that no starting JVM is between copying the library and loading it. */
const STALE_NATIVE_LIB_AGE_MS = 10 * 60_000;
const KINESIS_MARKER = 'kinesis-local';

export interface StartEmulatorsOptions {
  /** Persist under this directory (`dynamodb/`, `kinesis/`, the lock file); undefined: in memory. */
  readonly dataDir?: string | undefined;
  /** Undefined: any free port. */
  readonly dynamodbPort?: number | undefined;
  /** kinesis-mock's plain-HTTP port (its TLS port is always a free one). Undefined: any free port. */
  readonly kinesisPort?: number | undefined;
  /** When a requested port is taken: true picks a free one, false (default) fails with PortInUseError. */
  readonly portFallback?: boolean | undefined;
  /** kinesis-mock's account-wide shard limit. */
  readonly kinesisShardLimit?: number | undefined;
  /** Progress lines and emulator errors (prefixed `[dynamodb]` / `[kinesis]`). */
  readonly log?: ((line: string) => void) | undefined;
}

export interface RunningEmulators {
  readonly dynamodbEndpoint: string;
  readonly kinesisEndpoint: string;
  readonly pids: { readonly dynamodb: number; readonly kinesis: number };
  /** Milliseconds from spawn to the first successful ListTables / ListStreams. */
  readonly startupMs: { readonly dynamodb: number; readonly kinesis: number; readonly total: number };
  /** Stops both emulators (kinesis-mock's last writes flushed to disk first). Idempotent. */
  stop(): Promise<void>;
}

interface Emulator {
  readonly name: string;
  readonly child: ChildProcess;
  readonly tail: OutputTail;
  readonly port: number;
  readonly endpoint: string;
}

/**
 * Starts DynamoDB Local and kinesis-mock as child processes and resolves once both answer.
 *
 * Crash safety: the children stay in our process group (a Ctrl-C or a group kill reaches them) but
 * ignore SIGINT, so that Ctrl-C lets us stop the app before the emulators; a reaper process stops
 * them if we die alone; with a `dataDir`, a lock file lets the next start clean up after a SIGKILL.
 *
 * @example
 * const emulators = await startEmulators({ dataDir: '.data', log: console.log });
 * // ... AWS_ENDPOINT_URL_DYNAMODB=emulators.dynamodbEndpoint ...
 * await emulators.stop();
 */
export async function startEmulators(opts: StartEmulatorsOptions = {}): Promise<RunningEmulators> {
  const log = opts.log ?? (() => {});
  const began = Date.now();
  assertJava();
  const dataDir = opts.dataDir === undefined ? undefined : resolve(opts.dataDir);
  if (dataDir !== undefined) {
    mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });
    mkdirSync(join(dataDir, 'kinesis'), { recursive: true });
    await clearLeftovers(dataDir, log);
    quarantineUnreadablePersistFile(join(dataDir, 'kinesis'), log);
  }
  const fallback = opts.portFallback ?? false;
  const dynamodbPort = await pickPort('DynamoDB Local', opts.dynamodbPort, fallback, log);
  const kinesisPort = await pickPort('kinesis-mock', opts.kinesisPort, fallback, log);
  const dynamodb = spawnDynamodb(dynamodbPort, dataDir, log);
  const kinesis = spawnKinesis(kinesisPort, await findFreePort(), dataDir, opts.kinesisShardLimit, log);
  const emulators = [dynamodb, kinesis];
  const stopCopies = dataDir === undefined ? () => {} : keepLastGoodCopies(join(dataDir, 'kinesis'));
  const reaper = startReaper(emulators.map((e) => e.child.pid ?? 0).filter((pid) => pid > 0));
  const onExit = (): void => {
    for (const e of emulators) if (!hasExited(e.child)) e.child.kill('SIGTERM');
  };
  process.on('exit', onExit);
  const stopAll = async (): Promise<void> => {
    process.off('exit', onExit);
    stopCopies();
    await Promise.all([stopKinesis(kinesis, dataDir), stopChild(dynamodb.child)]);
    // Wait for the reaper to be gone too: stop() resolves with no process of ours left behind.
    reaper.kill('SIGKILL');
    await waitForChildExit(reaper, REAPER_EXIT_WAIT_MS);
    if (dataDir !== undefined) releaseDataDir(dataDir);
  };
  if (dataDir !== undefined) claimDataDir(dataDir, lockOf(emulators));
  let startupMs: RunningEmulators['startupMs'];
  try {
    const [dynamodbMs, kinesisMs] = await Promise.all([
      waitReady(dynamodb, probeDynamodb, log, 'DynamoDB Local'),
      waitReady(kinesis, probeKinesis, log, 'kinesis-mock'),
    ]);
    startupMs = { dynamodb: dynamodbMs, kinesis: kinesisMs, total: Date.now() - began };
  } catch (error) {
    await stopAll();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    dynamodbEndpoint: dynamodb.endpoint,
    kinesisEndpoint: kinesis.endpoint,
    pids: { dynamodb: dynamodb.child.pid ?? 0, kinesis: kinesis.child.pid ?? 0 },
    startupMs,
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/** Throws JavaMissingError unless `java` runs and is recent enough for DynamoDB Local. */
export function assertJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error !== undefined) throw new JavaMissingError(`running java failed: ${result.error.message}`);
  const match = /version "(?:1\.)?(\d+)/.exec(`${result.stderr}${result.stdout}`);
  const major = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  if (!(major >= JAVA_MAJOR_MIN)) {
    throw new JavaMissingError(`found ${result.stderr.split('\n')[0]?.trim() ?? 'an unknown java'}`);
  }
}

async function pickPort(
  name: string,
  preferred: number | undefined,
  fallback: boolean,
  log: (line: string) => void,
): Promise<number> {
  const { port, fellBack } = await choosePort(preferred, fallback);
  if (fellBack) log(`port ${preferred} is taken: ${name} uses port ${port} instead`);
  return port;
}

function packageDir(name: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The emulators read AWS_REGION and friends as their own defaults: keep ours out of them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return { ...env, ...extra };
}

function spawnDynamodb(port: number, dataDir: string | undefined, log: (line: string) => void): Emulator {
  const dir = join(packageDir('amplify-dynamodb-simulator'), 'emulator');
  const storage = dataDir === undefined ? ['-inMemory'] : ['-dbPath', join(dataDir, 'dynamodb')];
  const javaArgs = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    `-Djava.io.tmpdir=${prepareJavaTmpDir()}`,
    '-jar',
    join(dir, DYNAMODB_MARKER),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...storage,
  ];
  // `trap "" INT` before exec: the JVM keeps an ignored SIGINT ignored, so Ctrl-C leaves it running
  // until we stop it in order. exec keeps the pid and makes the command line java's.
  const child = spawn('/bin/sh', ['-c', 'trap "" INT; exec "$0" "$@"', 'java', ...javaArgs], {
    cwd: dir,
    env: childEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('error', (error) => log(`[dynamodb] ${error.message}`));
  const tail = watchOutput(child, '[dynamodb]', log);
  return { name: 'dynamodb', child, tail, port, endpoint: `http://127.0.0.1:${port}` };
}

function prepareJavaTmpDir(): string {
  mkdirSync(JAVA_TMP_DIR, { recursive: true });
  const staleBefore = Date.now() - STALE_NATIVE_LIB_AGE_MS;
  for (const name of readdirSync(JAVA_TMP_DIR)) {
    if (!NATIVE_LIB_PATTERN.test(name)) continue;
    const path = join(JAVA_TMP_DIR, name);
    try {
      // A JVM that loaded it keeps its mapping: removing the file cannot break a running emulator.
      if (statSync(path).mtimeMs < staleBefore) rmSync(path, { force: true });
    } catch {
      // removed meanwhile by another start
    }
  }
  return JAVA_TMP_DIR;
}

/**
 * kinesis-mock is a Scala.js program that installs its own SIGINT handler; this wrapper drops that
 * registration (Node resets an inherited ignored SIGINT, so the shell trap does not work here).
 */
const KINESIS_WRAPPER = `
const on = process.on.bind(process);
on('SIGINT', () => {});
process.on = (event, listener) => (event === 'SIGINT' ? process : on(event, listener));
require(process.argv[1]);
`;

function spawnKinesis(
  port: number,
  tlsPort: number,
  dataDir: string | undefined,
  shardLimit: number | undefined,
  log: (line: string) => void,
): Emulator {
  const dir = packageDir(KINESIS_MARKER);
  const persist: Record<string, string> =
    dataDir === undefined
      ? { SHOULD_PERSIST_DATA: 'false', LOAD_DATA_IF_EXISTS: 'false' }
      : {
          SHOULD_PERSIST_DATA: 'true',
          LOAD_DATA_IF_EXISTS: 'true',
          PERSIST_PATH: join(dataDir, 'kinesis'),
          PERSIST_FILE_NAME: KINESIS_PERSIST_FILE_NAME,
          PERSIST_INTERVAL: `${KINESIS_PERSIST_INTERVAL_MS}ms`,
        };
  const env = childEnv({
    KINESIS_MOCK_PLAIN_PORT: String(port),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    CREATE_STREAM_DURATION: '0ms',
    DELETE_STREAM_DURATION: '0ms',
    UPDATE_SHARD_COUNT_DURATION: '0ms',
    SHARD_LIMIT: String(shardLimit ?? KINESIS_SHARD_LIMIT_DEFAULT),
    LOG_LEVEL: 'ERROR',
    // cats-effect's "CPU is probably starving" warning fires whenever the machine is busy (tests):
    // noise for a local emulator.
    CATS_EFFECT_CPU_STARVATION_CHECK_INITIAL_DELAY: 'Inf',
    ...persist,
  });
  const child = spawn(process.execPath, ['-e', KINESIS_WRAPPER, join(dir, 'main.js')], {
    cwd: dir, // it reads server.json (its TLS certificate) from the working directory
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('error', (error) => log(`[kinesis] ${error.message}`));
  const tail = watchOutput(child, '[kinesis]', log);
  return { name: 'kinesis', child, tail, port, endpoint: `http://127.0.0.1:${port}` };
}

function lockOf(emulators: readonly Emulator[]): Parameters<typeof claimDataDir>[1] {
  const children: LockedChild[] = emulators.map((e) => ({
    name: e.name,
    pid: e.child.pid ?? 0,
    port: e.port,
    marker: e.name === 'dynamodb' ? DYNAMODB_MARKER : KINESIS_MARKER,
  }));
  return { ...currentOwner(), startedAt: new Date().toISOString(), children };
}

async function waitReady(
  emulator: Emulator,
  probe: (endpoint: string) => Promise<void>,
  log: (line: string) => void,
  label: string,
): Promise<number> {
  const started = Date.now();
  const deadline = started + EMULATOR_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited(emulator.child)) {
      const how = emulator.child.exitCode ?? emulator.child.signalCode;
      const output = emulator.tail.lines().join('\n');
      throw new EmulatorStartError(`${label} exited (${how}) during start-up. Its last output:\n${output}`);
    }
    try {
      await probe(emulator.endpoint);
      const ms = Date.now() - started;
      log(`${label} ready on :${emulator.port} (${(ms / 1000).toFixed(1)} s)`);
      return ms;
    } catch {
      await sleep(READY_POLL_MS);
    }
  }
  throw new EmulatorStartError(`${label} did not answer within ${EMULATOR_READY_TIMEOUT_MS / 1000} s`);
}

const probeOptions = (endpoint: string) => ({
  region: PROBE_REGION,
  endpoint,
  credentials: EMULATOR_CREDENTIALS,
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 2_000 }),
});

async function probeDynamodb(endpoint: string): Promise<void> {
  const client = new DynamoDBClient(probeOptions(endpoint));
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } finally {
    client.destroy();
  }
}

async function probeKinesis(endpoint: string): Promise<void> {
  // An open keep-alive connection makes kinesis-mock's shutdown wait: destroy every probe client.
  const client = new KinesisClient(probeOptions(endpoint));
  try {
    await client.send(new ListStreamsCommand({ Limit: 1 }));
  } finally {
    client.destroy();
  }
}

async function stopKinesis(kinesis: Emulator, dataDir: string | undefined): Promise<void> {
  if (hasExited(kinesis.child)) return;
  // kinesis-mock persists on SIGTERM only once every client connection has closed; the app's SDK
  // clients keep theirs open, so it would wait forever and the last writes would be lost. Instead:
  // wait for a complete periodic persist that began after this point (nothing writes any more:
  // the stack stops the API and the poller first), then stop it with a short grace.
  if (dataDir !== undefined) {
    await waitForPersistFlush(
      join(dataDir, 'kinesis', KINESIS_PERSIST_FILE_NAME),
      KINESIS_PERSIST_INTERVAL_MS,
    );
  }
  await stopChild(kinesis.child, KINESIS_STOP_GRACE_MS);
}
