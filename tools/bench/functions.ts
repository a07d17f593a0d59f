import { type ChildProcess, fork, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type BundledFunction, LAMBDA_ENV_FROM_CONSTRUCT } from './bundle.js';
import { median } from './stats.js';

const RUNNERS = fileURLToPath(new URL('./runners/', import.meta.url));
/** A runner that has not answered by then is stuck (a bundle that never finishes importing). */
const RUNNER_TIMEOUT_MS = 60_000;

/** The environment a function has on Lambda (what its init reads), without any endpoint: AWS as deployed. */
export function lambdaEnv(serviceName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LEDGER_TABLE_NAME: 'edge-ledger',
    TRANSFER_STREAM_NAME: 'edge-ledger-transfers',
    AWS_REGION: 'us-east-2',
    AWS_DEFAULT_REGION: 'us-east-2',
    LEDGER_REGION: 'us-east-2',
    POWERTOOLS_SERVICE_NAME: serviceName,
    AWS_LAMBDA_FUNCTION_NAME: serviceName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    // Lambda runs Node 24, where the SDK prints no Node-version notice; Node 20 here would.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...LAMBDA_ENV_FROM_CONSTRUCT,
    ...extra,
  };
}

export interface InitSample {
  readonly sinceProcessStartMs: number;
  readonly importMs: number;
  /** CPU (user + system) the process had used when the handler was exported. */
  readonly cpuMs: number;
}

/** One cold start: a fresh `node` process importing the bundle. */
export async function initOnce(bundle: BundledFunction, env: Record<string, string>): Promise<InitSample> {
  const child = spawn(process.execPath, [join(RUNNERS, 'init-runner.mjs'), bundle.file], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [out, err] = await Promise.all([collect(child, 'stdout'), collect(child, 'stderr'), exited(child)]);
  const line = out.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as InitSample;
  } catch {
    throw new Error(`init runner for ${bundle.name} printed no result: ${err.slice(0, 2000)}`);
  }
}

export interface InitComparison {
  readonly runs: number;
  readonly subject: InitSample;
  readonly floor: InitSample;
  /** Median process-start-to-handler of the subject over that of the floor. */
  readonly ratio: number;
  /** The same for the import alone (without Node's own start, common to both). */
  readonly importRatio: number;
  /** The same for the CPU used by then. */
  readonly cpuRatio: number;
}

/**
 * Cold init of `subject` and `floor`, `runs` times each, alternating (floor, subject, floor, ...)
 * after one discarded warm-up of each (file cache), medians compared.
 */
export async function compareInit(
  subject: BundledFunction,
  floor: BundledFunction,
  env: Record<string, string>,
  runs: number,
): Promise<InitComparison> {
  await initOnce(floor, env);
  await initOnce(subject, env);
  const s: InitSample[] = [];
  const f: InitSample[] = [];
  for (let i = 0; i < runs; i++) {
    f.push(await initOnce(floor, env));
    s.push(await initOnce(subject, env));
  }
  const med = (xs: InitSample[]): InitSample => ({
    sinceProcessStartMs: median(xs.map((x) => x.sinceProcessStartMs)),
    importMs: median(xs.map((x) => x.importMs)),
    cpuMs: median(xs.map((x) => x.cpuMs)),
  });
  const subjectMedian = med(s);
  const floorMedian = med(f);
  return {
    runs,
    subject: subjectMedian,
    floor: floorMedian,
    ratio: subjectMedian.sinceProcessStartMs / floorMedian.sinceProcessStartMs,
    importRatio: subjectMedian.importMs / floorMedian.importMs,
    cpuRatio: subjectMedian.cpuMs / floorMedian.cpuMs,
  };
}

/** A running fake AWS endpoint (runners/fake-aws.mjs) in its own process. */
export interface FakeAws {
  readonly url: string;
  stats(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startFakeAws(): Promise<FakeAws> {
  const child = spawn(process.execPath, [join(RUNNERS, 'fake-aws.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fake AWS endpoint exited (${code})`)));
  });
  const { port } = JSON.parse(first) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/__stats`)).json()) as Record<string, number>,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

export interface CpuSample {
  readonly cpuMicros: number;
  readonly wallMs: number;
  readonly requests: number;
  readonly statuses: Record<string, number>;
}

export interface CpuRun {
  readonly cpuMsPerRequest: number;
  readonly requests: number;
  readonly statuses: Record<string, number>;
  /** Calls the fake endpoint received, per operation, during this function's runs (warm-up included). */
  readonly awsCalls: Record<string, number>;
}

export interface CpuComparison {
  readonly subject: CpuRun;
  readonly floor: CpuRun;
  readonly ratio: number;
  readonly rounds: number;
  /** Bytes the subject wrote to stdout (its JSON log lines) per request, warm-up included. */
  readonly subjectLogBytesPerRequest: number;
}

/** Warm CPU of one bundled handler in a fresh process, its logs going to `logFile`. */
async function cpuOnce(
  bundle: BundledFunction,
  env: Record<string, string>,
  warmup: number,
  requests: number,
  logFile: string,
): Promise<CpuSample> {
  const log = openSync(logFile, 'a');
  try {
    const child = fork(
      join(RUNNERS, 'cpu-runner.mjs'),
      [bundle.file, String(warmup), String(requests), bundle.name],
      {
        env,
        stdio: ['ignore', log, 'inherit', 'ipc'],
      },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), RUNNER_TIMEOUT_MS);
    const result = await new Promise<CpuSample>((resolve, reject) => {
      child.once('message', (m) => resolve(m as CpuSample));
      child.once('exit', (code) =>
        reject(new Error(`cpu runner for ${bundle.name} exited (${code}) without a result`)),
      );
    });
    clearTimeout(timer);
    await exited(child);
    return result;
  } finally {
    closeSync(log);
  }
}

/**
 * Warm CPU per request of `subject` and `floor` (ingest handlers), in `rounds` alternating fresh
 * processes each, against the fake endpoint; per-request CPU summed over the rounds.
 */
export async function compareCpu(
  subject: BundledFunction,
  floor: BundledFunction,
  fake: FakeAws,
  options: {
    readonly warmup: number;
    readonly requests: number;
    readonly rounds: number;
    readonly logDir: string;
  },
): Promise<CpuComparison> {
  const env = lambdaEnv('ingest-api', {
    AWS_ENDPOINT_URL_DYNAMODB: fake.url,
    AWS_ENDPOINT_URL_KINESIS: fake.url,
  });
  const logOf = (b: BundledFunction) => join(options.logDir, `${b.name}.log`);
  for (const b of [floor, subject]) rmSync(logOf(b), { force: true });
  const totals = new Map<
    string,
    { cpu: number; requests: number; statuses: Record<string, number>; calls: Record<string, number> }
  >();
  for (let round = 0; round < options.rounds; round++) {
    for (const bundle of [floor, subject]) {
      const before = await fake.stats();
      const sample = await cpuOnce(
        bundle,
        env,
        options.warmup,
        options.requests,
        join(options.logDir, `${bundle.name}.log`),
      );
      const after = await fake.stats();
      const t = totals.get(bundle.name) ?? { cpu: 0, requests: 0, statuses: {}, calls: {} };
      t.cpu += sample.cpuMicros;
      t.requests += sample.requests;
      for (const [k, v] of Object.entries(sample.statuses)) t.statuses[k] = (t.statuses[k] ?? 0) + v;
      for (const [k, v] of Object.entries(after)) t.calls[k] = (t.calls[k] ?? 0) + v - (before[k] ?? 0);
      totals.set(bundle.name, t);
    }
  }
  const runOf = (b: BundledFunction): CpuRun => {
    const t = totals.get(b.name);
    if (t === undefined) throw new Error(`no CPU samples for ${b.name}`);
    return {
      cpuMsPerRequest: t.cpu / 1000 / t.requests,
      requests: t.requests,
      statuses: t.statuses,
      awsCalls: t.calls,
    };
  };
  const s = runOf(subject);
  const f = runOf(floor);
  const sent = options.rounds * (options.warmup + options.requests);
  const logBytes = existsSync(logOf(subject)) ? statSync(logOf(subject)).size : 0;
  return {
    subject: s,
    floor: f,
    ratio: s.cpuMsPerRequest / f.cpuMsPerRequest,
    rounds: options.rounds,
    subjectLogBytesPerRequest: logBytes / sent,
  };
}

function collect(child: ChildProcess, stream: 'stdout' | 'stderr'): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      text += chunk;
    });
    child[stream]?.on('end', () => resolve(text));
    if (child[stream] === null) resolve('');
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
