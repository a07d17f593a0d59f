import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { LocalStackError } from './errors.js';
import {
  type EventSource,
  type InvocationOutcome,
  interpretResponse,
  type StreamRecord,
  toKinesisEvent,
  toStreamRecord,
  wholeBatch,
} from './kinesis-event.js';
import { CheckpointStore, DeadLetterWriter } from './poller-store.js';
import { abortableSleep, backoffMs } from './timing.js';

/** Lambda's default and maximum batch sizes for a Kinesis event source mapping. */
export const BATCH_SIZE_DEFAULT = 100;
export const BATCH_SIZE_MAX = 10_000;
export const RETRY_ATTEMPTS_DEFAULT = 3;
export const POLL_INTERVAL_MS_DEFAULT = 100;
export const RETRY_BACKOFF_MS_DEFAULT = 100;
const RETRY_BACKOFF_CAP_MS = 2_000;
const ERROR_BACKOFF_BASE_MS = 200;
const ERROR_BACKOFF_CAP_MS = 5_000;
const SHARD_PAGES_MAX = 100;
export const DRAIN_TIMEOUT_MS_DEFAULT = 30_000;
const DRAIN_POLL_MS = 25;
const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
]);

/** The consumer under test, typed like aws-lambda's KinesisStreamHandler minus the context. */
export type KinesisBatchHandler = (
  event: KinesisStreamEvent,
  // biome-ignore lint/suspicious/noConfusingVoidType: mirrors aws-lambda's KinesisStreamHandler (`async () => {}` must fit)
) => Promise<KinesisStreamBatchResponse | void>;

export interface PollerOptions {
  readonly kinesis: KinesisClient;
  /** Holds the checkpoints (`CKPT#<stream>`) and the on-failure items (`DEAD#consumer-on-failure`). */
  readonly dynamodb: DynamoDBClient;
  readonly streamName: string;
  readonly tableName: string;
  readonly region: string;
  readonly handler: KinesisBatchHandler;
  /** Records per invocation at most (1..10,000). Default 100. */
  readonly batchSize?: number;
  /**
   * Retries of a failing record after its first attempt; a bisected retry counts (the CDK mapping
   * sizes its retryAttempts for the halvings). Then the failed records go to the on-failure
   * destination: with a thrown error, that is the whole (possibly halved) batch, as in AWS.
   */
  readonly maxRetryAttempts?: number;
  /** Split a failed batch in half on each retry until the failing record is alone. Default false. */
  readonly bisectOnError?: boolean;
  /** Records older than this go to the on-failure destination instead of the handler. Default: no limit. */
  readonly maxRecordAgeSeconds?: number;
  /** Wait between polls of a shard that had nothing new. A full batch is followed at once. */
  readonly pollIntervalMs?: number;
  /** First retry delay of a failed batch; doubles per attempt, capped at 2 s. */
  readonly retryBackoffMs?: number;
  readonly invokeIdentityArn?: string;
  readonly log?: (line: string) => void;
}

export interface PollerCounters {
  /** Handler invocations. */
  readonly batches: number;
  /** Records passed to the handler, retries included. */
  readonly records: number;
  /** Records checkpointed as processed (not dead-lettered). */
  readonly processed: number;
  /** Invocations that failed (threw, or reported batchItemFailures). */
  readonly failures: number;
  /** Records written to the on-failure destination. */
  readonly deadLettered: number;
}

interface Settings {
  readonly batchSize: number;
  readonly maxRetryAttempts: number;
  readonly bisectOnError: boolean;
  readonly maxRecordAgeMs: number | undefined;
  readonly pollIntervalMs: number;
  readonly retryBackoffMs: number;
}

interface Shared {
  readonly opts: PollerOptions;
  readonly settings: Settings;
  readonly checkpoints: CheckpointStore;
  readonly deadLetters: DeadLetterWriter;
  readonly counters: { -readonly [K in keyof PollerCounters]: PollerCounters[K] };
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

/**
 * A local stand-in for Lambda's Kinesis event source mapping: polls every shard (shards in
 * parallel, each strictly in order), invokes the handler with a real KinesisStreamEvent, and
 * applies the mapping's failure semantics: ReportBatchItemFailures (retry from the lowest failed
 * record), bounded retries, optional bisection, maximum record age, and an on-failure destination
 * (`DEAD#consumer-on-failure` items in the ledger table). Checkpoints live in the ledger table, so
 * a restart resumes where the last run stopped.
 *
 * @example
 * const poller = new KinesisPoller({ kinesis, dynamodb, streamName, tableName, region, handler });
 * await poller.start();
 * // ... put records ...
 * await poller.drained();
 * await poller.stop();
 */
export class KinesisPoller {
  private readonly controller = new AbortController();
  private readonly shared: Shared;
  private workers: ShardWorker[] = [];
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: PollerOptions) {
    const batchSize = opts.batchSize ?? BATCH_SIZE_DEFAULT;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > BATCH_SIZE_MAX) {
      throw new RangeError(`batchSize must be an integer in 1..${BATCH_SIZE_MAX}`);
    }
    const settings: Settings = {
      batchSize,
      maxRetryAttempts: opts.maxRetryAttempts ?? RETRY_ATTEMPTS_DEFAULT,
      bisectOnError: opts.bisectOnError ?? false,
      maxRecordAgeMs: opts.maxRecordAgeSeconds === undefined ? undefined : opts.maxRecordAgeSeconds * 1000,
      pollIntervalMs: opts.pollIntervalMs ?? POLL_INTERVAL_MS_DEFAULT,
      retryBackoffMs: opts.retryBackoffMs ?? RETRY_BACKOFF_MS_DEFAULT,
    };
    this.shared = {
      opts,
      settings,
      checkpoints: new CheckpointStore(opts.dynamodb, opts.tableName, opts.streamName),
      deadLetters: new DeadLetterWriter(opts.dynamodb, opts.tableName, opts.streamName),
      counters: { batches: 0, records: 0, processed: 0, failures: 0, deadLettered: 0 },
      signal: this.controller.signal,
      log: opts.log ?? (() => {}),
    };
  }

  /** Lists the shards, loads their checkpoints and starts polling. Resolves once polling runs. */
  async start(): Promise<void> {
    if (this.running !== undefined) throw new LocalStackError('poller already started');
    const { kinesis, streamName, region } = this.opts;
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const streamArn = summary.StreamDescriptionSummary?.StreamARN;
    if (streamArn === undefined) throw new LocalStackError(`stream ${streamName} has no ARN`);
    const shards = await listShards(kinesis, streamName);
    const invokeIdentityArn = this.opts.invokeIdentityArn ?? 'arn:aws:iam::000000000000:role/local-consumer';
    this.workers = await Promise.all(
      shards.map(async (shardId) => {
        const source: EventSource = { shardId, region, streamArn, invokeIdentityArn };
        return new ShardWorker(this.shared, source, await this.shared.checkpoints.load(shardId));
      }),
    );
    this.running = Promise.all(this.workers.map((worker) => worker.run()));
  }

  /** Lets every in-flight batch finish (handler and checkpoint), then stops polling. Idempotent. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  get counters(): PollerCounters {
    return { ...this.shared.counters };
  }

  /** Shard ids and their checkpoints (last processed sequence number). */
  get checkpoints(): ReadonlyMap<string, string | undefined> {
    return new Map(this.workers.map((worker) => [worker.source.shardId, worker.checkpoint]));
  }

  /**
   * Resolves once every shard has been read to its end by a poll that began after this call: all
   * records put before the call are then processed or dead-lettered. Rejects after `timeoutMs`.
   */
  async drained(timeoutMs = DRAIN_TIMEOUT_MS_DEFAULT): Promise<void> {
    const since = Date.now();
    const deadline = since + timeoutMs;
    while (this.workers.some((worker) => !worker.caughtUpSince(since))) {
      if (this.running === undefined || this.controller.signal.aborted) {
        throw new LocalStackError('poller is not running');
      }
      if (Date.now() > deadline) {
        const behind = this.workers.filter((w) => !w.caughtUpSince(since)).map((w) => w.source.shardId);
        throw new LocalStackError(`stream not drained within ${timeoutMs} ms; behind: ${behind.join(', ')}`);
      }
      await abortableSleep(DRAIN_POLL_MS);
    }
  }
}

async function listShards(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < SHARD_PAGES_MAX; page++) {
    const out = await kinesis.send(
      new ListShardsCommand(nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken }),
    );
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
    if (nextToken === undefined) break;
  }
  return shards.flatMap((shard) => (shard.ShardId === undefined ? [] : [shard.ShardId]));
}

interface Page {
  readonly records: StreamRecord[];
  /** The Limit the page was read with. */
  readonly limit: number;
  readonly next: string | undefined;
  readonly caughtUp: boolean;
}

/** The retry state of the record a batch keeps failing on. */
interface Failing {
  readonly sequenceNumber: string;
  attempts: number;
}

/** One shard's loop: strictly sequential, one batch at a time. */
class ShardWorker {
  /** Start time of the latest poll that found the shard fully read. */
  caughtUpAt = 0;
  private iterator: string | undefined;
  /** Records per GetRecords: the batch size, or less while a failed batch is being bisected. */
  private limit: number;
  /** While bisecting: the last record of the batch that failed; full batches resume after it. */
  private bisectEnd: bigint | undefined;
  private failing: Failing | undefined;
  private errors = 0;
  private ended = false;

  constructor(
    private readonly shared: Shared,
    readonly source: EventSource,
    public checkpoint: string | undefined,
  ) {
    this.limit = shared.settings.batchSize;
  }

  /** Whether a poll that began after `time` found the shard fully read (or the shard is closed). */
  caughtUpSince(time: number): boolean {
    return this.ended || this.caughtUpAt > time;
  }

  async run(): Promise<void> {
    const { signal } = this.shared;
    while (!signal.aborted && !this.ended) {
      let waitMs: number;
      try {
        waitMs = await this.step();
        this.errors = 0;
      } catch (error) {
        waitMs = this.onError(error);
      }
      if (waitMs > 0) await abortableSleep(waitMs, signal);
    }
  }

  /** One poll and, when it found records, one invocation. Returns how long to wait before the next. */
  private async step(): Promise<number> {
    this.iterator ??= await this.freshIterator();
    const startedAt = Date.now();
    const page = await this.read(this.iterator);
    if (page === undefined) return 0; // the iterator expired: a fresh one is taken at once
    if (page.records.length === 0) {
      this.iterator = page.next;
      this.ended = page.next === undefined; // a closed shard (resharding): nothing more to read
      if (page.caughtUp) this.caughtUpAt = startedAt;
      return this.shared.settings.pollIntervalMs;
    }
    return this.deliver(page);
  }

  private onError(error: unknown): number {
    this.iterator = undefined;
    this.errors += 1;
    const name = (error as { name?: string }).name ?? 'Error';
    const quiet = THROTTLING_ERRORS.has(name) || this.shared.signal.aborted;
    if (!quiet) this.shared.log(`[poller] ${this.source.shardId}: ${name}: ${errorMessage(error)}`);
    return backoffMs(this.errors, ERROR_BACKOFF_BASE_MS, ERROR_BACKOFF_CAP_MS);
  }

  /** An iterator just after the checkpoint, or at the oldest record when there is none (or it is gone). */
  private async freshIterator(): Promise<string> {
    const { kinesis, streamName } = this.shared.opts;
    const base = { StreamName: streamName, ShardId: this.source.shardId };
    if (this.checkpoint !== undefined) {
      try {
        const out = await kinesis.send(
          new GetShardIteratorCommand({
            ...base,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            StartingSequenceNumber: this.checkpoint,
          }),
        );
        if (out.ShardIterator !== undefined) return out.ShardIterator;
      } catch (error) {
        if (!isMissingSequenceNumber(error)) throw error;
        // The checkpointed record is gone: the emulator lost its last writes in a crash, or its
        // data file was unreadable. Re-reading the shard is safe: the consumer is idempotent.
        this.shared.log(
          `[poller] ${this.source.shardId}: checkpoint ${this.checkpoint} is not in the stream any more; ` +
            're-reading the shard from TRIM_HORIZON',
        );
        this.checkpoint = undefined;
      }
    }
    const out = await kinesis.send(
      new GetShardIteratorCommand({ ...base, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    if (out.ShardIterator === undefined) throw new LocalStackError('GetShardIterator returned no iterator');
    return out.ShardIterator;
  }

  private async read(iterator: string): Promise<Page | undefined> {
    try {
      const limit = this.limit;
      const out = await this.shared.opts.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }),
      );
      const records = (out.Records ?? []).map(toStreamRecord);
      return { records, limit, next: out.NextShardIterator, caughtUp: (out.MillisBehindLatest ?? 0) === 0 };
    } catch (error) {
      if ((error as { name?: string }).name !== 'ExpiredIteratorException') throw error;
      this.iterator = undefined;
      return undefined;
    }
  }

  private async deliver(page: Page): Promise<number> {
    const { settings } = this.shared;
    const expired = countExpired(page.records, settings.maxRecordAgeMs);
    if (expired > 0) {
      const old = page.records.slice(0, expired);
      await this.deadLetter(old, 'record-expired: older than maxRecordAgeSeconds', 0);
      await this.advance(old);
    }
    const records = page.records.slice(expired);
    if (records.length === 0) {
      this.iterator = page.next;
      return 0;
    }
    const outcome = await this.invoke(records);
    if (!outcome.ok) return this.onFailure(records, outcome, page.next);
    this.shared.counters.processed += records.length;
    await this.advance(records);
    this.iterator = page.next;
    this.failing = undefined;
    const wasFull = records.length + expired >= page.limit;
    return wasFull ? 0 : settings.pollIntervalMs;
  }

  private async invoke(records: readonly StreamRecord[]): Promise<InvocationOutcome> {
    const { counters, opts } = this.shared;
    counters.batches += 1;
    counters.records += records.length;
    let outcome: InvocationOutcome;
    try {
      outcome = interpretResponse(records, await opts.handler(toKinesisEvent(records, this.source)));
    } catch (error) {
      outcome = wholeBatch(records, `handler threw: ${errorMessage(error)}`);
    }
    if (!outcome.ok) counters.failures += 1;
    return outcome;
  }

  private async onFailure(
    records: readonly StreamRecord[],
    outcome: Extract<InvocationOutcome, { ok: false }>,
    next: string | undefined,
  ): Promise<number> {
    const { settings } = this.shared;
    const first = records[outcome.failedFrom];
    if (first === undefined) throw new RangeError('failedFrom outside the batch');
    if (this.failing?.sequenceNumber !== first.sequenceNumber) {
      this.failing = { sequenceNumber: first.sequenceNumber, attempts: 0 };
    }
    this.failing.attempts += 1;
    const tooOld = countExpired([first], settings.maxRecordAgeMs) > 0;
    if (tooOld || this.failing.attempts > settings.maxRetryAttempts) {
      const why = tooOld ? 'record-expired' : 'retries-exhausted';
      const failed = outcome.failed.flatMap((index) => records[index] ?? []);
      await this.deadLetter(failed, `${why}: ${outcome.reason}`, this.failing.attempts);
      this.shared.counters.processed += records.length - failed.length;
      await this.advance(records);
      this.iterator = next;
      this.failing = undefined;
      return 0;
    }
    // Retry from the lowest failed record (what came before it is done), halved when bisecting.
    const retried = records.length - outcome.failedFrom;
    if (settings.bisectOnError && retried > 1) this.bisect(records, retried);
    this.shared.counters.processed += outcome.failedFrom;
    await this.advance(records.slice(0, outcome.failedFrom));
    this.iterator = undefined;
    return backoffMs(Math.max(1, this.failing.attempts), settings.retryBackoffMs, RETRY_BACKOFF_CAP_MS);
  }

  /**
   * Like Lambda's BisectBatchOnFunctionError: retry the first half of what failed, then go on in
   * batches of that size until past the end of the failed batch. Each halved retry is a retry.
   */
  private bisect(records: readonly StreamRecord[], retried: number): void {
    const end = BigInt(records.at(-1)?.sequenceNumber ?? '0');
    if (this.bisectEnd === undefined || end > this.bisectEnd) this.bisectEnd = end;
    this.limit = Math.ceil(retried / 2);
  }

  /** Moves the checkpoint past the last of `done` (nothing when empty), in memory then in the table. */
  private async advance(done: readonly StreamRecord[]): Promise<void> {
    const last = done.at(-1);
    if (last === undefined) return;
    if (this.bisectEnd !== undefined && BigInt(last.sequenceNumber) >= this.bisectEnd) {
      this.bisectEnd = undefined;
      this.limit = this.shared.settings.batchSize;
    }
    this.checkpoint = last.sequenceNumber;
    await this.shared.checkpoints.save(this.source.shardId, last.sequenceNumber);
  }

  private async deadLetter(
    records: readonly StreamRecord[],
    reason: string,
    attempts: number,
  ): Promise<void> {
    for (const record of records) {
      await this.shared.deadLetters.write({ record, shardId: this.source.shardId, reason, attempts });
      this.shared.counters.deadLettered += 1;
    }
    this.shared.log(
      `[poller] ${this.source.shardId}: ${records.length} record(s) sent to DEAD#consumer-on-failure (${reason})`,
    );
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How many records at the front of the batch are older than the maximum age. */
function countExpired(records: readonly StreamRecord[], maxRecordAgeMs: number | undefined): number {
  if (maxRecordAgeMs === undefined) return 0;
  const oldest = Date.now() - maxRecordAgeMs;
  const firstFresh = records.findIndex((record) => record.arrivedAtMs >= oldest);
  return firstFresh === -1 ? records.length : firstFresh;
}

/** kinesis-mock: ResourceNotFoundException; AWS: InvalidArgumentException. */
function isMissingSequenceNumber(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  return (
    (name === 'ResourceNotFoundException' || name === 'InvalidArgumentException') &&
    /sequence ?number/i.test(message ?? '')
  );
}
