import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KINESIS_PERSIST_FILE_NAME } from '../local/kinesis-persist.js';
import { lockFilePath } from '../local/lock-file.js';
import { groupPids, isAlive, readCmdline, waitForPidExit } from '../local/processes.js';
import type { FaultStats } from './fault-proxy.js';
import type { FaultProfileName } from './profile.js';

/**
 * Starts, kills and stops the local stack as a child process group, the way a terminal runs
 * `npm start`, and records what each death left behind and how the next start dealt with it.
 */

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_CLI = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
export const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const KILL_WAIT_MS = 5_000;
/** An armed self-kill that found no consumer transaction within this long falls back to a group kill. */
const ARMED_KILL_WAIT_MS = 8_000;
const LOG_TAIL_MAX = 200;
const NOTABLE_MAX = 200;
const DYNAMODB_MARKER = 'DynamoDBLocal.jar';
const KINESIS_MARKER = 'kinesis-local';
const NOTABLE =
  /left running by a previous start|unreadable|not in the stream any more|DEAD#|Reconciler|failed|error|exited/i;

/** `chaos`: tools/chaos/stack-process.ts (fault proxies); `plain`: tools/local/start.ts, i.e. `npm start`. */
export type StackKind = 'chaos' | 'plain';
/**
 * `group`: SIGKILL of the whole process group (a terminal's kill -9 of the job);
 * `transaction`: the group kills itself right after DynamoDB applied a consumer transaction;
 * `orphan`: SIGKILL of every node process (runner, reaper) but not the emulators, which keep running;
 * `torn`: a group kill that caught kinesis-mock rewriting its data file: the file is cut in half, as
 * a SIGKILL in the middle of that write leaves it (kinesis-mock rewrites it in place every second).
 */
export type KillMode = 'group' | 'transaction' | 'orphan' | 'torn';

export interface ChildStats {
  readonly storm: boolean;
  readonly dynamodb: FaultStats;
  readonly kinesis: FaultStats;
  readonly poller: {
    batches: number;
    records: number;
    processed: number;
    failures: number;
    deadLettered: number;
  };
}

export interface RunningStack {
  readonly kind: StackKind;
  readonly child: ChildProcess;
  readonly pgid: number;
  readonly apiUrl: string;
  /** The emulators themselves (not the proxies): for the runner's reads. */
  readonly dynamodbEndpoint: string;
  readonly kinesisEndpoint: string;
  readonly startupMs: number;
  /** Lines worth reporting (leftovers stopped, files quarantined, re-reads, failures). */
  readonly notable: string[];
  readonly tail: string[];
  /** The latest stats line of a `chaos` stack. */
  stats: ChildStats | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartStackOptions {
  readonly kind: StackKind;
  readonly dataDir: string;
  readonly seed: number;
  readonly profile: FaultProfileName;
  readonly reconcileGraceMs: number;
}

/** Starts a stack in a process group of its own; resolves once its API serves. */
export async function startStack(opts: StartStackOptions): Promise<RunningStack> {
  const began = Date.now();
  const env = childEnv();
  const child =
    opts.kind === 'chaos'
      ? spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            join(REPO_ROOT, 'tools', 'chaos', 'stack-process.ts'),
            '--data-dir',
            opts.dataDir,
            '--seed',
            String(opts.seed),
            '--profile',
            opts.profile,
            '--reconcile-grace-ms',
            String(opts.reconcileGraceMs),
          ],
          { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
        )
      : spawn(
          TSX_CLI,
          [
            'tools/local/start.ts',
            '--data-dir',
            opts.dataDir,
            '--port',
            '0',
            '--dynamodb-port',
            '0',
            '--kinesis-port',
            '0',
          ],
          { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
        );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const notable: string[] = [];
  const tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > LOG_TAIL_MAX) tail.shift();
    if (NOTABLE.test(line) && notable.length < NOTABLE_MAX) notable.push(line);
  };
  let stack: RunningStack | undefined;
  const ready = new Promise<RunningStack>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stack not ready in ${START_TIMEOUT_MS} ms:\n${tail.join('\n')}`)),
      START_TIMEOUT_MS,
    );
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`stack exited (${code ?? signal}) before it was ready:\n${tail.join('\n')}`));
    });
    const ports: { dynamodb?: string; kinesis?: string } = {};
    const onLine = (line: string): void => {
      const event = parseEvent(line);
      if (event === undefined) {
        keep(line);
        if (opts.kind === 'plain')
          plainReady(line, ports, (apiUrl) => done(apiUrl, ports.dynamodb, ports.kinesis));
        return;
      }
      if (event.event === 'stats') {
        if (stack !== undefined) stack.stats = event as unknown as ChildStats;
      } else if (event.event === 'log') keep(String(event.line));
      else if (event.event === 'ready') {
        done(String(event.apiUrl), String(event.dynamodbEndpoint), String(event.kinesisEndpoint));
      } else keep(line);
    };
    const done = (
      apiUrl: string,
      dynamodbEndpoint: string | undefined,
      kinesisEndpoint: string | undefined,
    ): void => {
      clearTimeout(timer);
      if (dynamodbEndpoint === undefined || kinesisEndpoint === undefined) {
        reject(new Error(`stack ready without emulator endpoints:\n${tail.join('\n')}`));
        return;
      }
      stack = {
        kind: opts.kind,
        child,
        pgid: child.pid ?? 0,
        apiUrl,
        dynamodbEndpoint,
        kinesisEndpoint,
        startupMs: Date.now() - began,
        notable,
        tail,
        stats: undefined,
        exited,
      };
      resolve(stack);
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', keep);
  });
  try {
    return await ready;
  } catch (error) {
    killGroup(child.pid ?? 0);
    throw error;
  }
}

function plainReady(
  line: string,
  ports: { dynamodb?: string; kinesis?: string },
  ready: (apiUrl: string) => void,
): void {
  const dynamodb = /DynamoDB Local ready on :(\d+)/.exec(line)?.[1];
  if (dynamodb !== undefined) ports.dynamodb = `http://127.0.0.1:${dynamodb}`;
  const kinesis = /kinesis-mock ready on :(\d+)/.exec(line)?.[1];
  if (kinesis !== undefined) ports.kinesis = `http://127.0.0.1:${kinesis}`;
  const api = /^Ready in .* curl (http:\/\/\S+)\/health/.exec(line)?.[1];
  if (api !== undefined) ready(api);
}

function parseEvent(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{"event"')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The stack's environment: emulators of its own (no LocalStack), quiet logs, one region. */
function childEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return {
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
}

export interface KillObservation {
  readonly mode: KillMode;
  /** For `transaction`: whether the group died right after an applied transaction (else: group kill). */
  readonly inTransaction: boolean;
  /** Consumer transactions in flight (per the last stats line) when it died; undefined for plain stacks. */
  readonly transactionsInFlight: number | undefined;
  readonly lockFileLeft: boolean;
  readonly kinesisFileReadable: boolean | 'absent';
  /** Emulators left running on purpose (`orphan`). */
  readonly orphans: readonly number[];
  /** `torn`: bytes of the kinesis-mock file kept, of its size. */
  readonly tornFile: { readonly kept: number; readonly size: number } | undefined;
  /** Processes of the group still alive after the kill, other than the orphans (should be none). */
  readonly survivors: readonly number[];
}

/** Kills the stack as `mode` says and reports what it left behind. */
export async function killStack(
  stack: RunningStack,
  mode: KillMode,
  dataDir: string,
): Promise<KillObservation> {
  const inFlight = stack.stats?.dynamodb.inFlight;
  let effective = mode;
  let inTransaction = false;
  let orphans: number[] = [];
  if (mode === 'transaction' && stack.kind === 'chaos') {
    stack.child.kill('SIGUSR2');
    const died = await Promise.race([
      stack.exited.then(() => true),
      sleep(ARMED_KILL_WAIT_MS).then(() => false),
    ]);
    inTransaction = died;
    if (!died) effective = 'group';
  } else if (mode === 'transaction') effective = 'group';
  if (effective === 'orphan') orphans = killAllButEmulators(stack.pgid);
  else if (!inTransaction) killGroup(stack.pgid);
  await Promise.race([stack.exited, sleep(KILL_WAIT_MS)]);
  const survivors: number[] = [];
  for (const pid of groupPids(stack.pgid)) {
    if (orphans.includes(pid)) continue;
    if (!(await waitForPidExit(pid, KILL_WAIT_MS))) survivors.push(pid);
  }
  const tornFile = mode === 'torn' ? tearKinesisFile(dataDir) : undefined;
  return {
    mode,
    inTransaction,
    transactionsInFlight: inFlight,
    lockFileLeft: existsSync(lockFilePath(dataDir)),
    kinesisFileReadable: kinesisFileState(dataDir),
    orphans: orphans.filter(isAlive),
    tornFile,
    survivors,
  };
}

/** Cuts the kinesis-mock data file in half (all its processes are dead by now). */
function tearKinesisFile(dataDir: string): { kept: number; size: number } | undefined {
  const path = join(dataDir, 'kinesis', KINESIS_PERSIST_FILE_NAME);
  if (!existsSync(path)) return undefined;
  const size = statSync(path).size;
  const kept = Math.floor(size / 2);
  truncateSync(path, kept);
  return { kept, size };
}

export interface StopObservation {
  readonly exitCode: number | null;
  readonly stopMs: number;
  readonly lockFileRemoved: boolean;
  /** Processes of the group alive after the stop (should be none). */
  readonly leftovers: readonly number[];
}

/** Ctrl-C: SIGINT to the whole group, as a terminal sends it. */
export async function stopStack(stack: RunningStack, dataDir: string): Promise<StopObservation> {
  const began = Date.now();
  signalGroup(stack.pgid, 'SIGINT');
  const result = await Promise.race([stack.exited, sleep(STOP_TIMEOUT_MS).then(() => undefined)]);
  const stopMs = Date.now() - began;
  await sleep(200);
  const leftovers = groupPids(stack.pgid);
  if (result === undefined || leftovers.length > 0) killGroup(stack.pgid);
  return {
    exitCode: result?.code ?? null,
    stopMs,
    lockFileRemoved: !existsSync(lockFilePath(dataDir)),
    leftovers,
  };
}

export function killGroup(pgid: number): void {
  signalGroup(pgid, 'SIGKILL');
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** SIGKILLs the group's processes that are not emulators (the reaper first); returns the emulators. */
function killAllButEmulators(pgid: number): number[] {
  const members = groupPids(pgid);
  const isEmulator = (pid: number): boolean => {
    const cmdline = readCmdline(pid) ?? '';
    return cmdline.includes(DYNAMODB_MARKER) || cmdline.includes(KINESIS_MARKER);
  };
  const emulators = members.filter(isEmulator);
  // The reaper stops the emulators when its pipe from the runner closes: it must die first.
  const others = members
    .filter((pid) => !isEmulator(pid))
    .sort((a, b) => Number(isReaper(b)) - Number(isReaper(a)));
  for (const pid of others) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return emulators;
}

function isReaper(pid: number): boolean {
  return (readCmdline(pid) ?? '').includes('process.stdin.on');
}

function kinesisFileState(dataDir: string): boolean | 'absent' {
  const path = join(dataDir, 'kinesis', KINESIS_PERSIST_FILE_NAME);
  if (!existsSync(path)) return 'absent';
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as { streams?: unknown };
    return typeof value === 'object' && value !== null && typeof value.streams === 'object';
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
