import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadSummary } from '../load/run.js';
import { startLocalStack } from '../local/stack.js';
import type { Endpoints } from './ledger.js';

const LOAD_MAIN = fileURLToPath(new URL('../load/main.ts', import.meta.url));
/** Setup's funding transfers must be applied before the measured load starts. */
const SETUP_DRAIN_TIMEOUT_MS = 120_000;
/** After the load: how long the bench waits for the consumer to catch up (bounded: the bench has a budget). */
const DRAIN_AFTER_LOAD_MS = 45_000;
/** Followed transfers may take this long to become final after the last request. */
const SETTLE_S = 20;
const COUNTER_POLL_MS = 250;

export interface E2eOptions {
  readonly rate: number;
  readonly durationS: number;
  readonly accounts: number;
  readonly tmpDir: string;
}

export interface E2eResult {
  readonly offeredRate: number;
  readonly durationS: number;
  readonly load: LoadSummary;
  /** Records the local consumer processed from the start of the load until it caught up (or gave up), per second. */
  readonly postedPerSecond: number;
  readonly drainAfterLoadMs: number;
  /** Whether the consumer caught up with every accepted transfer within the bench's wait. */
  readonly drained: boolean;
}

/**
 * The local stack (tools/local/stack.ts: API on @hono/node-server, consumer behind the local event
 * source mapping, reconciler) on the bench's emulators, driven by the load generator in its own
 * process at a fixed offered rate (accounts set up first by a separate, unmeasured invocation).
 */
export async function measureEndToEnd(endpoints: Endpoints, options: E2eOptions): Promise<E2eResult> {
  const name = `bench-e2e-${Date.now().toString(36)}`;
  const stack = await startLocalStack({
    endpoints,
    port: 0,
    tableName: name,
    streamName: name,
    log: () => {},
  });
  try {
    const common = ['--base-url', stack.apiUrl, '--accounts', String(options.accounts), '--prefix', 'e2e'];
    await runLoadChild([...common, '--setup', '--rate', '1', '--duration', '1', '--sample', '0'], undefined);
    await stack.poller.drained(SETUP_DRAIN_TIMEOUT_MS);
    const before = stack.poller.counters.processed;
    const began = performance.now();
    const json = join(options.tmpDir, 'e2e-load.json');
    await runLoadChild(
      [
        ...common,
        '--rate',
        String(options.rate),
        '--duration',
        String(options.durationS),
        '--settle',
        String(SETTLE_S),
        '--json',
        json,
      ],
      (line) => process.stderr.write(`  load: ${line}\n`),
    );
    const loadEnded = performance.now();
    const load = JSON.parse(readFileSync(json, 'utf8')) as LoadSummary;
    const drained = await waitForCount(() => stack.poller.counters.processed - before, load.accepted);
    const caughtUp = performance.now();
    return {
      offeredRate: options.rate,
      durationS: options.durationS,
      load,
      postedPerSecond: ((stack.poller.counters.processed - before) / (caughtUp - began)) * 1000,
      drainAfterLoadMs: caughtUp - loadEnded,
      drained,
    };
  } finally {
    await stack.stop();
  }
}

/** Waits (bounded) until `count()` reaches `target`; false when it did not in time. */
async function waitForCount(count: () => number, target: number): Promise<boolean> {
  const deadline = performance.now() + DRAIN_AFTER_LOAD_MS;
  while (count() < target) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, COUNTER_POLL_MS));
  }
  return true;
}

function runLoadChild(args: readonly string[], onLine: ((line: string) => void) | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.setEncoding('utf8');
    let buffered = '';
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) onLine?.(l);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}
