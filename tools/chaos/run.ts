import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { buildConsumerHandler } from '../../functions/ledger-consumer/consumer.js';
import { type AwsClients, createClients } from '../../shared/adapters/clients.js';
import { loadConfig } from '../../shared/config.js';
import { isAlive, readCmdline } from '../local/processes.js';
import { STREAM_NAME_DEFAULT, TABLE_NAME_DEFAULT } from '../local/stack.js';
import { auditSnapshot, type LedgerAudit, type LedgerSnapshot, readLedgerSnapshot } from './audit.js';
import type { FaultProfileName } from './profile.js';
import { Random } from './random.js';
import {
  type ChildStats,
  type KillMode,
  type KillObservation,
  killGroup,
  killStack,
  type RunningStack,
  type StackKind,
  type StopObservation,
  startStack,
  stopStack,
} from './stack-control.js';
import { readStream, recordKeys, replayProcessed } from './stream.js';
import { ApiLocation, planAccounts, type Tracked, Workload, type WorkloadCounters } from './workload.js';

/**
 * The chaos run: a bank workload through the HTTP API of the local stack while faults are
 * injected (fault proxies in front of the emulators, redeliveries, a replaying second consumer)
 * and the whole stack is SIGKILLed and restarted on the same data dir several times. At the end it
 * waits for the pipeline to drain and checks that no accepted transfer was lost or applied twice
 * and that the ledger balances (see {@link auditLedger} in audit.ts).
 */

export interface ChaosOptions {
  /** Seconds of workload under faults; the kills fall inside it. */
  readonly durationSeconds: number;
  readonly clients: number;
  /** Customer accounts (plus one treasury per currency). */
  readonly accounts: number;
  readonly seed: number;
  /** SIGKILLs of the stack (each followed by a restart on the same data dir). */
  readonly kills: number;
  readonly profile: FaultProfileName;
  /** Every n-th round runs plain `npm start` (tools/local/start.ts, no fault proxy); 0: never. */
  readonly plainEvery: number;
  /** Redeliver already-processed records through a second consumer. */
  readonly replay: boolean;
  readonly drainTimeoutSeconds: number;
  /** The chaos stack's reconciler grace period (the product's local default is 60 s). */
  readonly reconcileGraceMs: number;
  /** Kill modes in order (cycled); default: group, transaction, orphan, torn from a seeded offset. */
  readonly killModes?: readonly KillMode[] | undefined;
  /** Default: a fresh temporary directory, removed at the end. */
  readonly dataDir?: string | undefined;
  readonly keepData: boolean;
  readonly log: (line: string) => void;
}

export const CHAOS_DEFAULTS = {
  durationSeconds: 180,
  clients: 8,
  accounts: 40,
  kills: 6,
  profile: 'heavy',
  plainEvery: 3,
  replay: true,
  drainTimeoutSeconds: 150,
  reconcileGraceMs: 10_000,
  keepData: false,
} as const satisfies Partial<ChaosOptions>;

/** How long after a stream read a kill may come for that read to count as persisted (kinesis-mock writes every second). */
const PERSIST_SAFETY_MS = 2_000;
const PROBE_INTERVAL_MS = 4_000;
const ACCOUNT_OPEN_TIMEOUT_MS = 120_000;
const SETTLE_TIMEOUT_MS = 90_000;
const SETTLE_CONCURRENCY = 8;
const DRAIN_POLL_MS = 2_000;
const KILL_MODES: readonly KillMode[] = ['group', 'transaction', 'orphan', 'torn'];
const UPTIME_JITTER = 0.4;

export interface RoundPlan {
  readonly index: number;
  readonly kind: StackKind;
  readonly profile: FaultProfileName;
  /** How long the round runs under load before its kill; undefined for the final (drain) round. */
  readonly uptimeMs: number | undefined;
  readonly killMode: KillMode | undefined;
}

export interface StreamCheck {
  /** Records seen by the latest read at least PERSIST_SAFETY_MS before the kill. */
  readonly before: number;
  readonly after: number;
  /** Of those, records missing after the restart. */
  readonly missing: number;
  /** The restart moved a half-written kinesis-mock file aside (the stream started empty). */
  readonly quarantined: boolean;
}

export interface RoundRecord {
  readonly plan: RoundPlan;
  readonly startupMs: number;
  readonly notable: readonly string[];
  /** Emulators left running by the previous round's death that this start had to stop. */
  readonly leftoverEmulators: number;
  /** Those still alive once this start was ready (must be 0). */
  readonly leftoverEmulatorsAlive: number;
  stream: StreamCheck | undefined;
  kill: KillObservation | undefined;
  stats: ChildStats | undefined;
  requests: number;
}

export interface TransferOutcomes {
  readonly sent: number;
  readonly accepted: number;
  readonly posted: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly stillAccepted: number;
  readonly lost: readonly string[];
  readonly doubled: readonly string[];
  /** Recorded although no request got a 202/200 (an ambiguous answer); must still end final. */
  readonly recordedWithout202: number;
  /** Transfers whose stored request differs from what was sent, or that nobody sent. */
  readonly altered: readonly string[];
  readonly phantoms: readonly string[];
  /** Must-reject transfers posted or rejected for another reason; funding not posted; odd reasons. */
  readonly wrongOutcomes: readonly string[];
  readonly mustReject: number;
  readonly unsettled: number;
}

export interface ChaosReport {
  readonly options: Omit<ChaosOptions, 'log'>;
  readonly durationMs: number;
  readonly rounds: readonly RoundRecord[];
  readonly counters: WorkloadCounters;
  readonly outcomes: TransferOutcomes;
  readonly audit: LedgerAudit;
  /** Name of the audit function, so the report says what checked the ledger. */
  readonly auditName: string;
  readonly replay: { batches: number; records: number; unresolved: number; errors: number };
  readonly drainMs: number;
  readonly finalStop: StopObservation;
  readonly violations: readonly string[];
  readonly warnings: readonly string[];
  readonly ok: boolean;
}

/** The rounds: each but the last ends in a kill; the last one (no faults) drains and stops cleanly. */
export function planRounds(options: ChaosOptions, random: Random): RoundPlan[] {
  const rounds: RoundPlan[] = [];
  const budget = (options.durationSeconds * 1000) / Math.max(1, options.kills);
  const modes = options.killModes ?? KILL_MODES;
  const offset = options.killModes === undefined ? random.int(0, KILL_MODES.length - 1) : 0;
  const kinds: StackKind[] = [];
  const killModes: KillMode[] = [];
  for (let i = 0; i < options.kills; i++) {
    const plain = options.plainEvery > 0 && i > 0 && i % options.plainEvery === options.plainEvery - 1;
    kinds.push(plain ? 'plain' : 'chaos');
    killModes.push(modes[(i + offset) % modes.length] ?? 'group');
  }
  // Plain `npm start` has no fault proxy to die in a transaction: that kill goes to the next proxied round.
  kinds.forEach((kind, i) => {
    if (kind !== 'plain' || killModes[i] !== 'transaction') return;
    const j = kinds.findIndex((k, n) => n > i && k === 'chaos');
    killModes[i] = j < 0 ? 'group' : (killModes[j] ?? 'group');
    if (j >= 0) killModes[j] = 'transaction';
  });
  for (let i = 0; i < options.kills; i++) {
    rounds.push({
      index: i,
      kind: kinds[i] ?? 'chaos',
      profile: options.profile,
      uptimeMs: Math.round(budget * (1 - UPTIME_JITTER + 2 * UPTIME_JITTER * random.next())),
      killMode: killModes[i] ?? 'group',
    });
  }
  rounds.push({
    index: options.kills,
    kind: 'chaos',
    profile: 'none',
    uptimeMs: undefined,
    killMode: undefined,
  });
  return rounds;
}

/** Runs the whole scenario; never throws for a broken guarantee (that is in the report), only for a broken run. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const began = Date.now();
  const random = new Random(options.seed);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'edge-ledger-chaos-'));
  const plan = planRounds(options, random.fork(1));
  const api = new ApiLocation();
  const workload = new Workload(
    planAccounts(options.accounts, random.fork(2)),
    api,
    `c${options.seed.toString(36)}`,
  );
  const run = new ChaosRun(options, dataDir, workload, api, random.fork(3));
  const stopOnExit = (): void => run.killCurrent();
  process.on('exit', stopOnExit);
  try {
    await run.rounds(plan);
    return await run.finish(began);
  } finally {
    run.killCurrent();
    process.off('exit', stopOnExit);
    if (options.dataDir === undefined && !options.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Probe {
  readonly at: number;
  readonly keys: Set<string>;
}

class ChaosRun {
  readonly records: RoundRecord[] = [];
  readonly replayStats = { batches: 0, records: 0, unresolved: 0, errors: 0 };
  private current: RunningStack | undefined;
  private clientsStopped = false;
  private clients: Promise<void> | undefined;
  private final: RunningStack | undefined;
  /** Emulators the last `orphan` kill left running, until the next start has stopped them. */
  private orphans: number[] = [];

  constructor(
    private readonly options: ChaosOptions,
    private readonly dataDir: string,
    private readonly workload: Workload,
    private readonly api: ApiLocation,
    private readonly random: Random,
  ) {}

  /** Kills the running stack, and emulators an `orphan` kill left behind (on exit, or a failed run). */
  killCurrent(): void {
    if (this.current !== undefined) killGroup(this.current.pgid);
    for (const pid of this.orphans.splice(0)) {
      // Only while the pid still names an emulator: it may have been reused since.
      const cmdline = readCmdline(pid) ?? '';
      if (!isAlive(pid) || !/DynamoDBLocal\.jar|kinesis-local/.test(cmdline)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  async rounds(plan: readonly RoundPlan[]): Promise<void> {
    let previousKill: KillObservation | undefined;
    let probes: Probe[] = [];
    for (const round of plan) {
      const stack = await this.start(round, previousKill, probes);
      if (round.uptimeMs === undefined || round.killMode === undefined) {
        this.final = stack;
        return;
      }
      if (round.index === 0) await this.beginWorkload();
      const requestsBefore = this.workload.counters.requests;
      probes = [];
      let watching = true;
      const watcher = this.watch(stack, () => watching, probes);
      await sleep(round.uptimeMs);
      if (round.index === plan.length - 2) this.clientsStopped = true;
      watching = false;
      this.api.clear();
      const record = this.records.at(-1);
      if (record !== undefined) record.stats = stack.stats;
      previousKill = await killStack(stack, round.killMode, this.dataDir);
      this.orphans = [...previousKill.orphans];
      this.current = undefined;
      await watcher;
      if (record !== undefined) {
        record.kill = previousKill;
        record.requests = this.workload.counters.requests - requestsBefore;
      }
      this.options.log(
        `round ${round.index}: killed (${round.killMode}${previousKill.inTransaction ? ', right after an applied transaction' : ''}) ` +
          `after ${(round.uptimeMs / 1000).toFixed(1)} s; lock file left: ${previousKill.lockFileLeft}, ` +
          `kinesis file readable: ${previousKill.kinesisFileReadable}, orphaned emulators: ${previousKill.orphans.length}`,
      );
    }
  }

  private async start(
    round: RoundPlan,
    previousKill: KillObservation | undefined,
    probes: readonly Probe[],
  ): Promise<RunningStack> {
    const killedAt = Date.now();
    const stack = await startStack({
      kind: round.kind,
      dataDir: this.dataDir,
      seed: this.options.seed + round.index,
      profile: round.profile,
      reconcileGraceMs: this.options.reconcileGraceMs,
    });
    this.current = stack;
    const orphans = previousKill?.orphans ?? [];
    const record: RoundRecord = {
      plan: round,
      startupMs: stack.startupMs,
      notable: stack.notable,
      leftoverEmulators: orphans.length,
      leftoverEmulatorsAlive: orphans.filter(isAlive).length,
      stream: undefined,
      kill: undefined,
      stats: undefined,
      requests: 0,
    };
    this.records.push(record);
    this.orphans = [];
    if (previousKill !== undefined) record.stream = await this.checkStream(stack, probes, killedAt);
    this.api.set(stack.apiUrl);
    this.options.log(
      `round ${round.index}: ${round.kind === 'plain' ? 'npm start (tools/local/start.ts)' : `stack with fault proxies (${round.profile})`} ` +
        `ready in ${(stack.startupMs / 1000).toFixed(1)} s at ${stack.apiUrl}` +
        (record.stream === undefined
          ? ''
          : `; stream: ${record.stream.before} records before the kill, ${record.stream.after} after, ` +
            `${record.stream.missing} missing${record.stream.quarantined ? ' (half-written file quarantined)' : ''}`),
    );
    return stack;
  }

  /** Records seen before the kill against records after the restart. */
  private async checkStream(
    stack: RunningStack,
    probes: readonly Probe[],
    killedAt: number,
  ): Promise<StreamCheck> {
    const probe = probes.filter((p) => p.at <= killedAt - PERSIST_SAFETY_MS).at(-1);
    const clients = rawClients(stack);
    try {
      const after = recordKeys(await readStream(clients, STREAM_NAME_DEFAULT));
      const before = probe?.keys ?? new Set<string>();
      let missing = 0;
      for (const key of before) if (!after.has(key)) missing += 1;
      return {
        before: before.size,
        after: after.size,
        missing,
        quarantined: stack.notable.some((line) => /unreadable/.test(line)),
      };
    } finally {
      destroy(clients);
    }
  }

  private async beginWorkload(): Promise<void> {
    this.options.log(`opening ${this.workload.accounts.length} accounts`);
    await this.workload.openAccounts(Date.now() + ACCOUNT_OPEN_TIMEOUT_MS, SETTLE_CONCURRENCY);
    const funding = this.workload.fundingTransfers();
    const count = this.options.clients;
    this.options.log(`${count} clients start; ${funding.length} funding transfers first`);
    this.clients = Promise.all(
      Array.from({ length: count }, (_, i) =>
        this.workload.runClient(
          this.random.fork(100 + i),
          () => this.clientsStopped,
          funding.filter((_, j) => j % count === i),
        ),
      ),
    ).then(() => undefined);
  }

  /** While the round runs: reads the stream (for the survival check) and replays processed records. */
  private async watch(stack: RunningStack, watching: () => boolean, probes: Probe[]): Promise<void> {
    const clients = rawClients(stack);
    const config = rawConfig(stack);
    const handler = this.options.replay
      ? buildConsumerHandler(config, {
          logger: new Logger({ serviceName: 'chaos-replay', logLevel: 'SILENT' }),
          metrics: new Metrics({ namespace: 'Chaos', serviceName: 'chaos-replay' }),
        })
      : undefined;
    try {
      while (watching()) {
        await sleepWhile(PROBE_INTERVAL_MS, watching);
        if (!watching()) break;
        try {
          const shards = await readStream(clients, STREAM_NAME_DEFAULT);
          probes.push({ at: Date.now(), keys: recordKeys(shards) });
          if (handler === undefined) continue;
          const result = await replayProcessed(
            clients,
            TABLE_NAME_DEFAULT,
            STREAM_NAME_DEFAULT,
            shards,
            handler,
            this.random,
          );
          this.replayStats.batches += result.records > 0 ? 1 : 0;
          this.replayStats.records += result.records;
          // Records failing because the stack died under the replay are not the consumer's doing.
          if (watching()) this.replayStats.unresolved += result.unresolved;
        } catch {
          // the stack is being killed
          this.replayStats.errors += 1;
        }
      }
    } finally {
      destroy(clients);
    }
  }

  async finish(began: number): Promise<ChaosReport> {
    const stack = this.final;
    if (stack === undefined) throw new Error('no final round');
    this.clientsStopped = true;
    await this.clients;
    this.options.log('settling: resending every transfer that never got a 202');
    const unsettled = await this.workload.settle(Date.now() + SETTLE_TIMEOUT_MS, SETTLE_CONCURRENCY);
    const drainBegan = Date.now();
    this.options.log('draining: waiting until no transfer is ACCEPTED');
    const snapshot = await this.drain(stack);
    const drainMs = Date.now() - drainBegan;
    const audit = auditSnapshot(snapshot);
    const outcomes = crossCheck(this.workload, snapshot, audit, unsettled);
    this.current = undefined;
    const finalStop = await stopStack(stack, this.dataDir);
    const finalRecord = this.records.at(-1);
    if (finalRecord !== undefined) finalRecord.stats = stack.stats;
    const { violations, warnings } = judge(
      this.records,
      this.workload.counters,
      outcomes,
      audit,
      finalStop,
      this.replayStats,
    );
    return {
      options: withoutLog(this.options),
      durationMs: Date.now() - began,
      rounds: this.records,
      counters: this.workload.counters,
      outcomes,
      audit,
      auditName: 'auditLedger (tools/chaos/audit.ts)',
      replay: this.replayStats,
      drainMs,
      finalStop,
      violations,
      warnings,
      ok: violations.length === 0,
    };
  }

  /** Reads the table until no transfer is ACCEPTED any more, or the drain timeout. */
  private async drain(stack: RunningStack): Promise<LedgerSnapshot> {
    const clients = rawClients(stack);
    const deadline = Date.now() + this.options.drainTimeoutSeconds * 1000;
    try {
      for (;;) {
        const snapshot = await readLedgerSnapshot({
          dynamodb: clients.dynamodb,
          tableName: TABLE_NAME_DEFAULT,
        });
        const accepted = [...snapshot.transfers.values()].filter((t) => t.status === 'ACCEPTED').length;
        if (accepted === 0 || Date.now() > deadline) return snapshot;
        const poller = stack.stats?.poller;
        this.options.log(
          `draining: ${accepted} transfer(s) ACCEPTED` +
            (poller === undefined
              ? ''
              : `; consumer: ${poller.batches} batches, ${poller.processed} records`),
        );
        await sleep(DRAIN_POLL_MS);
      }
    } finally {
      destroy(clients);
    }
  }
}

/** What the client side knows against what the table holds. */
function crossCheck(
  workload: Workload,
  snapshot: LedgerSnapshot,
  audit: LedgerAudit,
  unsettled: number,
): TransferOutcomes {
  const lost: string[] = [];
  const altered: string[] = [];
  const wrong: string[] = [];
  let recordedWithout202 = 0;
  let mustReject = 0;
  for (const t of workload.tracked.values()) {
    const stored = snapshot.transfers.get(t.spec.id);
    if (t.kind.startsWith('reject:')) mustReject += 1;
    if (t.accepted && (stored === undefined || stored.status === 'ACCEPTED')) lost.push(t.spec.id);
    if (stored === undefined) continue;
    if (!t.accepted) recordedWithout202 += 1;
    const same =
      stored.debitAccountId === t.spec.debitAccountId &&
      stored.creditAccountId === t.spec.creditAccountId &&
      stored.amount === t.spec.amount &&
      stored.currency === t.spec.currency;
    if (!same) altered.push(t.spec.id);
    if (stored.status !== 'ACCEPTED') {
      workload.observe(t, { status: stored.status });
      const problem = outcomeProblem(t, stored.status, stored.reason);
      if (problem !== undefined) wrong.push(`${t.spec.id}: ${problem}`);
    }
  }
  for (const [id, version] of workload.counters.maxVersion) {
    const account = snapshot.accounts.get(id);
    if (account !== undefined && account.version < BigInt(version))
      wrong.push(`${id}: version went back to ${account.version}`);
  }
  const phantoms = [...snapshot.transfers.keys()].filter((id) => !workload.tracked.has(id));
  return {
    sent: workload.tracked.size,
    accepted: [...workload.tracked.values()].filter((t) => t.accepted).length,
    posted: audit.transfers.posted,
    rejected: audit.transfers.rejected,
    stillAccepted: audit.transfers.accepted,
    lost,
    doubled: audit.doubled,
    recordedWithout202,
    altered,
    phantoms,
    wrongOutcomes: wrong,
    mustReject,
    unsettled,
  };
}

function outcomeProblem(t: Tracked, status: string, reason: string | undefined): string | undefined {
  if (t.kind.startsWith('reject:')) {
    const expected = t.kind.slice('reject:'.length);
    return status === 'REJECTED' && reason === expected
      ? undefined
      : `must be REJECTED ${expected}, is ${status} ${reason ?? ''}`;
  }
  if (t.kind === 'funding') return status === 'POSTED' ? undefined : `funding is ${status} ${reason ?? ''}`;
  return status === 'POSTED' || reason === 'insufficient_funds' ? undefined : `is ${status} ${reason ?? ''}`;
}

function judge(
  rounds: readonly RoundRecord[],
  counters: WorkloadCounters,
  outcomes: TransferOutcomes,
  audit: LedgerAudit,
  finalStop: StopObservation,
  replay: { unresolved: number },
): { violations: string[]; warnings: string[] } {
  const violations: string[] = [];
  const warnings: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) violations.push(what);
  };
  check(
    outcomes.lost.length === 0,
    `${outcomes.lost.length} accepted transfer(s) lost: ${outcomes.lost.slice(0, 5).join(', ')}`,
  );
  check(
    outcomes.doubled.length === 0,
    `${outcomes.doubled.length} transfer(s) applied twice: ${outcomes.doubled.slice(0, 5).join(', ')}`,
  );
  check(outcomes.stillAccepted === 0, `${outcomes.stillAccepted} transfer(s) still ACCEPTED after the drain`);
  check(
    audit.findings.length === 0,
    `audit: ${audit.findings
      .slice(0, 5)
      .map((f) => `${f.check} ${f.subject}: ${f.detail}`)
      .join('; ')}`,
  );
  check(
    outcomes.altered.length === 0,
    `${outcomes.altered.length} stored transfer(s) differ from what was sent`,
  );
  check(
    outcomes.phantoms.length === 0,
    `${outcomes.phantoms.length} transfer(s) in the ledger that nobody sent`,
  );
  check(
    outcomes.wrongOutcomes.length === 0,
    `wrong outcomes: ${outcomes.wrongOutcomes.slice(0, 5).join('; ')}`,
  );
  check(outcomes.unsettled === 0, `${outcomes.unsettled} transfer(s) never got a 202 even without faults`);
  check(
    counters.unexpected === 0,
    `${counters.unexpected} unexpected answer(s): ${counters.unexpectedSamples.slice(0, 3).join(' | ')}`,
  );
  check(
    counters.conflictsAccepted === 0,
    `${counters.conflictsAccepted} conflicting body(ies) accepted under an existing id`,
  );
  check(
    counters.regressions === 0,
    `${counters.regressions} regression(s): ${counters.regressionSamples.slice(0, 3).join(' | ')}`,
  );
  rounds.forEach((r, i) => {
    const torn = rounds[i - 1]?.kill?.tornFile !== undefined;
    check(
      !torn || r.stream?.quarantined === true,
      `round ${r.plan.index}: the torn kinesis file was not moved aside`,
    );
    check(
      r.leftoverEmulatorsAlive === 0,
      `round ${r.plan.index}: ${r.leftoverEmulatorsAlive} leftover emulator(s) still alive after the start`,
    );
    check((r.kill?.survivors.length ?? 0) === 0, `round ${r.plan.index}: processes survived the kill`);
    if ((r.stream?.missing ?? 0) > 0 && r.stream?.quarantined !== true) {
      warnings.push(
        `round ${r.plan.index}: ${r.stream?.missing} stream record(s) persisted ≥2 s before the kill were gone after the restart`,
      );
    }
    if (r.stream?.quarantined === true && !torn) {
      warnings.push(
        `round ${r.plan.index}: a half-written kinesis-mock file was quarantined: the stream restarted from its last good copy (${r.stream?.missing ?? 0} record(s) missing)`,
      );
    }
  });
  const leftovers = rounds.filter((r) => r.leftoverEmulators > 0).length;
  const stopped = rounds.filter((r) =>
    r.notable.some((l) => /left running by a previous start/.test(l)),
  ).length;
  check(stopped >= leftovers, `${leftovers - stopped} start(s) did not say they stopped leftover emulators`);
  check(finalStop.exitCode === 0, `the final stack exited ${finalStop.exitCode} on Ctrl-C`);
  check(finalStop.lockFileRemoved, 'the final stack left its lock file');
  check(
    finalStop.leftovers.length === 0,
    `processes left after the final stop: ${finalStop.leftovers.join(', ')}`,
  );
  if (replay.unresolved > 0)
    warnings.push(`${replay.unresolved} replayed record(s) still failing after retries`);
  return { violations, warnings };
}

function rawConfig(stack: RunningStack) {
  return loadConfig({
    LEDGER_TABLE_NAME: TABLE_NAME_DEFAULT,
    TRANSFER_STREAM_NAME: STREAM_NAME_DEFAULT,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
    AWS_ENDPOINT_URL_KINESIS: stack.kinesisEndpoint,
  });
}

function rawClients(stack: RunningStack): AwsClients {
  return createClients(rawConfig(stack));
}

function destroy(clients: AwsClients): void {
  clients.dynamodb.destroy();
  clients.kinesis.destroy();
}

function withoutLog(options: ChaosOptions): Omit<ChaosOptions, 'log'> {
  const { log: _log, ...rest } = options;
  return rest;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function sleepWhile(ms: number, condition: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (condition() && Date.now() < end) await sleep(Math.min(100, end - Date.now()));
}
