import {
  type AttributeValue,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type GetShardIteratorCommandOutput,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isTransientAwsError } from '../../shared/adapters/aws-errors.js';
import { LocalStackError } from './errors.js';
import { gatedRequestHandler, type RegionNetwork } from './region-network.js';
import { backoffMs } from './timing.js';

/** The last-writer-wins clock every application item carries: `<ISO-8601 UTC with ms>#<region>`. */
export const WRITTEN_ATTRIBUTE = 'written';
export const LAG_MS_DEFAULT = 250;
export const LAG_MS_MAX = 600_000;
export const POLL_INTERVAL_MS_DEFAULT = 100;
export const POLL_INTERVAL_MS_MAX = 60_000;
/** Records per GetRecords (DynamoDB Streams allows 1,000). */
export const RECORDS_PER_READ_MAX = 100;
/** Changes read but not yet applied, per shard: reading a shard waits while its queue is full. */
export const PENDING_PER_SHARD_MAX = 1_000;
/** Attempts of one change failing with a non-transient error; then it is dropped and counted `failed`. */
export const APPLY_ATTEMPTS_MAX = 5;
/** Changes applied per shard in one round before the loop reads again. */
const APPLIES_PER_ROUND_MAX = 100;
const SHARDS_PER_PAGE_MAX = 100;
const SHARD_PAGES_MAX = 100;
const SHARD_REFRESH_MS = 1_000;
const ERROR_BACKOFF_BASE_MS = 100;
const ERROR_BACKOFF_CAP_MS = 2_000;
const CAUGHT_UP_POLL_MS = 20;
/** Concurrent `caughtUp` calls per direction. */
const CATCH_UP_REQUESTS_MAX = 100;
/** The SDK's own attempts per call, under the loop's retries (as in shared/adapters/clients.ts). */
const SDK_ATTEMPTS_MAX = 3;
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Emulators accept any key (the convention of shared/adapters/clients.ts). */
const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export class ReplicatorError extends LocalStackError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReplicatorError';
  }
}

export interface ReplicaTable {
  readonly region: string;
  readonly tableName: string;
}

export interface TableReplicatorOptions {
  /** The two replicas; their regions must differ (a direction is named by its two regions). */
  readonly tables: readonly [ReplicaTable, ReplicaTable];
  /** DynamoDB (and DynamoDB Streams) endpoint, e.g. DynamoDB Local; undefined: AWS itself. */
  readonly endpoint?: string | undefined;
  /** A change is applied no earlier than this after the replicator read it. Default 250. */
  readonly lagMs?: number | undefined;
  /** Wait between reads of a stream that had nothing new. Default 100. */
  readonly pollIntervalMs?: number | undefined;
  /** When set, A->B applies only while B is reachable from A, and A's stream is read only while A is up. */
  readonly network?: RegionNetwork | undefined;
  readonly log?: ((line: string) => void) | undefined;
}

/** Outcomes of one change in one direction, since start. */
export interface DirectionCounters {
  /** Stream records read. */
  readonly read: number;
  /** Puts written, and deletes that removed an item. */
  readonly applied: number;
  /** The target held a later clock (last writer wins), or a later item than a delete's. */
  readonly skippedOlder: number;
  /**
   * The target already reflected the change: a version whose clock names the target's region (the
   * replicator's own write coming back through the other stream), the same clock, or a delete of
   * an item already gone. This is how echoes end.
   */
  readonly skippedEcho: number;
  /** A put or delete of an item without a clock: not replicated (see TableReplicator). */
  readonly skippedUnclocked: number;
  /** Dropped after APPLY_ATTEMPTS_MAX non-transient failures (logged). */
  readonly failed: number;
}

export interface DirectionStats extends DirectionCounters {
  readonly from: string;
  readonly to: string;
  /** Changes read and not yet applied or skipped. */
  readonly pending: number;
  /** Milliseconds since the replicator read the oldest pending change; undefined with none pending. */
  readonly oldestPendingMs: number | undefined;
}

export interface ReplicatorStats {
  readonly paused: boolean;
  readonly lagMs: number;
  readonly directions: readonly [DirectionStats, DirectionStats];
}

/**
 * A local stand-in for DynamoDB global table replication between two tables (on one DynamoDB
 * Local), in both directions: it reads each table's stream and applies every change to the other
 * table, item by item, last writer wins on the `written` clock (`<ISO time>#<region>`; the regions
 * in `tables` must be the names the application writes there).
 *
 * - INSERT/MODIFY: PutItem of the NewImage if the target item is missing, has no clock, or has an
 *   older clock (`skippedOlder` otherwise).
 * - REMOVE: DeleteItem if the target item has no clock or a clock not later than the removed
 *   OldImage's: a delete counts as happening at the clock of the version it removed.
 * - Echoes: a version whose clock names the target's region was written there first, so it is
 *   never written back (`skippedEcho`). The equal clock would fail the condition anyway, but only
 *   while the item exists: after a delete, the echo of the earlier insert would resurrect it, and
 *   the insert and delete would then chase each other between the tables forever. A replicated
 *   delete's echo finds nothing to delete (or a later version) and ends there.
 * - Items without a clock are not replicated (`skippedUnclocked`): with no clock there is no order
 *   and no origin, so an echo cannot be told from a change, and an unclocked put and delete would
 *   loop as above. Every item the application writes carries a clock.
 *
 * Each shard is applied strictly in order (a child shard after its parent); the stream is read
 * from TRIM_HORIZON. `pause()` models a partition of the replication link: changes are kept (in
 * memory, up to PENDING_PER_SHARD_MAX per shard, then in the stream) and applied after `resume()`.
 *
 * @example
 * const replicator = new TableReplicator({
 *   endpoint: 'http://127.0.0.1:8000',
 *   tables: [{ region: 'us-east-2', tableName: 'ledger-use2' }, { region: 'eu-west-1', tableName: 'ledger-euw1' }],
 * });
 * await replicator.start();
 * // ... write to ledger-use2 ...
 * await replicator.caughtUp('us-east-2', 'eu-west-1', 5_000); // true: ledger-euw1 has it
 * await replicator.stop();
 */
export class TableReplicator {
  private readonly state: ReplicatorState;
  private readonly waker = new Waker();
  private readonly directions: readonly [Direction, Direction];
  private running: Promise<unknown> | undefined;
  private stopping: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: TableReplicatorOptions) {
    const [a, b] = opts.tables;
    if (a.region === b.region) throw new RangeError('the two tables must be in different regions');
    if (a.tableName === b.tableName) throw new RangeError('the two tables must differ');
    const pollIntervalMs = opts.pollIntervalMs ?? POLL_INTERVAL_MS_DEFAULT;
    assertMs('pollIntervalMs', pollIntervalMs, 1, POLL_INTERVAL_MS_MAX);
    this.state = { paused: false, stopped: false, lagMs: LAG_MS_DEFAULT, pollIntervalMs };
    this.setLagMs(opts.lagMs ?? LAG_MS_DEFAULT);
    const context: Context = {
      state: this.state,
      waker: this.waker,
      network: opts.network,
      log: opts.log ?? (() => {}),
    };
    this.directions = [
      new Direction(context, a, b, directionClients(opts, a, b)),
      new Direction(context, b, a, directionClients(opts, b, a)),
    ];
  }

  /**
   * Checks both tables (stream enabled, NEW_AND_OLD_IMAGES) and starts replicating. A region that is
   * down or unreachable is checked later, by the loop. Throws ReplicatorError on a table without a
   * suitable stream.
   */
  async start(): Promise<void> {
    if (this.running !== undefined || this.state.stopped) {
      throw new ReplicatorError('replicator already started (a stopped replicator does not restart)');
    }
    await Promise.all(this.directions.map((direction) => direction.prepare()));
    this.unsubscribe = this.opts.network?.onChange(() => this.waker.wakeAll());
    this.running = Promise.all(this.directions.map((direction) => direction.run()));
  }

  /** Lets in-flight calls finish, stops both loops and closes every client. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  /** Applies nothing in either direction until `resume()`; resolves once no apply is in flight. */
  async pause(): Promise<void> {
    this.state.paused = true;
    await Promise.all(this.directions.map((direction) => direction.idle()));
  }

  resume(): void {
    this.state.paused = false;
    this.waker.wakeAll();
  }

  /** Changes the lag of every change not yet applied, pending ones included. */
  setLagMs(ms: number): void {
    assertMs('lagMs', ms, 0, LAG_MS_MAX);
    this.state.lagMs = ms;
    this.waker.wakeAll();
  }

  stats(): ReplicatorStats {
    const now = Date.now();
    const [ab, ba] = this.directions;
    return {
      paused: this.state.paused,
      lagMs: this.state.lagMs,
      directions: [ab.stats(now), ba.stats(now)],
    };
  }

  /**
   * Resolves true once every change that was in `fromRegion`'s stream when called has been applied
   * or skipped in `toRegion`'s table; false after `timeoutMs` or when the replicator stops. A link
   * that cannot apply (paused, or the network cuts it) is not caught up: the call waits.
   */
  async caughtUp(fromRegion: string, toRegion: string, timeoutMs: number): Promise<boolean> {
    if (this.running === undefined) throw new ReplicatorError('replicator not started');
    const direction = this.directions.find(
      (d) => d.source.region === fromRegion && d.target.region === toRegion,
    );
    if (direction === undefined) throw new RangeError(`no replication from ${fromRegion} to ${toRegion}`);
    return direction.caughtUp(timeoutMs);
  }

  private async shutDown(): Promise<void> {
    this.state.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.waker.close();
    await this.running;
    for (const direction of this.directions) direction.destroy();
  }
}

interface ReplicatorState {
  paused: boolean;
  stopped: boolean;
  lagMs: number;
  readonly pollIntervalMs: number;
}

interface Context {
  readonly state: ReplicatorState;
  readonly waker: Waker;
  readonly network: RegionNetwork | undefined;
  readonly log: (line: string) => void;
}

interface DirectionClients {
  /** DescribeTable of the source, from the source region. */
  readonly sourceDb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  /** Writes to the target, from the source region (through the network gate, when there is one). */
  readonly targetDb: DynamoDBClient;
}

type Item = Record<string, AttributeValue>;
type Outcome = 'applied' | 'skippedOlder' | 'skippedEcho' | 'skippedUnclocked';

interface Change {
  readonly sequenceNumber: string;
  readonly kind: 'put' | 'remove';
  readonly key: Item;
  /** The NewImage of a put, the OldImage of a remove. */
  readonly image: Item;
  readonly readAt: number;
  failures: number;
}

interface SourceStream {
  readonly arn: string;
  readonly hashKey: string;
}

class ShardState {
  iterator: string | undefined;
  /** The last sequence number read: a fresh iterator resumes after it. */
  lastSequence: string | undefined;
  /** Read to the end of a closed shard. */
  ended = false;
  readonly queue: Change[] = [];
  read = 0;
  processed = 0;

  constructor(
    readonly id: string,
    readonly parentId: string | undefined,
  ) {}

  get done(): boolean {
    return this.ended && this.queue.length === 0;
  }
}

/** One `caughtUp` call: the shards listed after it, and per shard how many records it had then. */
class CatchUpRequest {
  shardIds: ReadonlySet<string> | undefined;
  readonly targets = new Map<string, number>();

  constructor(readonly since: number) {}
}

/** One direction: reads the source's stream, applies to the target. One loop, shards in turn. */
class Direction {
  private readonly counters = {
    read: 0,
    applied: 0,
    skippedOlder: 0,
    skippedEcho: 0,
    skippedUnclocked: 0,
    failed: 0,
  } satisfies DirectionCounters;
  private readonly shards = new Map<string, ShardState>();
  private readonly requests = new Set<CatchUpRequest>();
  private stream: SourceStream | undefined;
  /** Counts `caughtUp` calls; a read or listing that began at epoch >= a request's `since` is after it. */
  private epoch = 0;
  private listedAt = Number.NEGATIVE_INFINITY;
  private errors = 0;
  private applying: Promise<Outcome> | undefined;
  private warnedForeignClock = false;

  constructor(
    private readonly context: Context,
    readonly source: ReplicaTable,
    readonly target: ReplicaTable,
    private readonly clients: DirectionClients,
  ) {}

  /** Describes the source now when it is reachable; a transient failure is left to the loop. */
  async prepare(): Promise<void> {
    if (!this.canRead()) return;
    try {
      this.stream = await describeSource(this.clients.sourceDb, this.source.tableName);
    } catch (error) {
      if (!isTransientAwsError(error)) throw error;
    }
  }

  async run(): Promise<void> {
    const { state, waker } = this.context;
    while (!state.stopped) {
      let waitMs: number;
      try {
        waitMs = await this.round();
        this.errors = 0;
      } catch (error) {
        waitMs = this.onError(error);
      }
      if (waitMs > 0 && !state.stopped) await waker.sleep(waitMs);
    }
  }

  async idle(): Promise<void> {
    await this.applying?.catch(() => undefined);
  }

  destroy(): void {
    this.clients.sourceDb.destroy();
    this.clients.streams.destroy();
    this.clients.targetDb.destroy();
  }

  stats(now: number): DirectionStats {
    let pending = 0;
    let oldestReadAt: number | undefined;
    for (const shard of this.shards.values()) {
      pending += shard.queue.length;
      const head = shard.queue[0];
      if (head !== undefined && (oldestReadAt === undefined || head.readAt < oldestReadAt)) {
        oldestReadAt = head.readAt;
      }
    }
    const oldestPendingMs = oldestReadAt === undefined ? undefined : now - oldestReadAt;
    return { from: this.source.region, to: this.target.region, ...this.counters, pending, oldestPendingMs };
  }

  async caughtUp(timeoutMs: number): Promise<boolean> {
    if (this.requests.size >= CATCH_UP_REQUESTS_MAX) {
      throw new RangeError(`more than ${CATCH_UP_REQUESTS_MAX} concurrent caughtUp calls`);
    }
    const { state, waker } = this.context;
    const request = new CatchUpRequest(++this.epoch);
    const deadline = Date.now() + timeoutMs;
    this.requests.add(request);
    waker.wakeAll(); // list and read now rather than after the poll interval
    try {
      while (!this.satisfied(request)) {
        const leftMs = deadline - Date.now();
        if (leftMs <= 0 || state.stopped) return false;
        await waker.sleep(Math.min(CAUGHT_UP_POLL_MS, leftMs));
      }
      return true;
    } finally {
      this.requests.delete(request);
    }
  }

  private satisfied(request: CatchUpRequest): boolean {
    if (request.shardIds === undefined || !this.canApply()) return false;
    for (const id of request.shardIds) {
      const shard = this.shards.get(id);
      if (shard === undefined || shard.done) continue;
      const target = request.targets.get(id);
      if (target === undefined || shard.processed < target) return false;
    }
    return true;
  }

  /** Reads what it may, applies what is due. Returns how long to wait before the next round. */
  private async round(): Promise<number> {
    let readMore = false;
    if (this.canRead()) {
      this.stream ??= await describeSource(this.clients.sourceDb, this.source.tableName);
      const listingWanted = [...this.requests].some((request) => request.shardIds === undefined);
      if (listingWanted || Date.now() - this.listedAt >= SHARD_REFRESH_MS) await this.listShards(this.stream);
      readMore = await this.readShards(this.stream);
    }
    const untilDueMs = await this.applyDue();
    return readMore ? 0 : Math.min(this.context.state.pollIntervalMs, untilDueMs);
  }

  private canRead(): boolean {
    const { network, state } = this.context;
    return !state.stopped && (network === undefined || network.isUp(this.source.region));
  }

  private canApply(): boolean {
    const { network, state } = this.context;
    if (state.stopped || state.paused) return false;
    return network === undefined || network.isReachable(this.source.region, this.target.region);
  }

  private async listShards(stream: SourceStream): Promise<void> {
    const started = this.epoch;
    const listedAt = Date.now();
    for (const shard of await describeShards(this.clients.streams, stream.arn)) {
      if (shard.ShardId === undefined || this.shards.has(shard.ShardId)) continue;
      this.shards.set(shard.ShardId, new ShardState(shard.ShardId, shard.ParentShardId));
    }
    this.listedAt = listedAt;
    for (const request of this.requests) {
      if (request.shardIds === undefined && started >= request.since) {
        request.shardIds = new Set(this.shards.keys());
      }
    }
  }

  /** One read of every shard that may be read. True when some shard returned records (may hold more). */
  private async readShards(stream: SourceStream): Promise<boolean> {
    let readMore = false;
    for (const shard of this.shards.values()) {
      if (!this.canRead()) break;
      if (this.readable(shard)) readMore = (await this.readShard(stream.arn, shard)) || readMore;
    }
    return readMore;
  }

  /** Not read to its end, room in its queue, and its parent (when still listed) fully applied. */
  private readable(shard: ShardState): boolean {
    if (shard.ended || shard.queue.length >= PENDING_PER_SHARD_MAX) return false;
    const parent = shard.parentId === undefined ? undefined : this.shards.get(shard.parentId);
    return parent === undefined || parent.done;
  }

  private async readShard(streamArn: string, shard: ShardState): Promise<boolean> {
    const started = this.epoch;
    shard.iterator ??= await shardIterator(this.clients.streams, streamArn, shard, this.context.log);
    const limit = Math.min(RECORDS_PER_READ_MAX, PENDING_PER_SHARD_MAX - shard.queue.length);
    let records: _Record[];
    try {
      const out = await this.clients.streams.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: limit }),
      );
      records = out.Records ?? [];
      shard.iterator = out.NextShardIterator;
    } catch (error) {
      return this.onReadError(shard, error);
    }
    const readAt = Date.now();
    const changes = records.map((record) => toChange(record, readAt));
    shard.queue.push(...changes);
    shard.lastSequence = changes.at(-1)?.sequenceNumber ?? shard.lastSequence;
    shard.read += changes.length;
    this.counters.read += changes.length;
    shard.ended = shard.iterator === undefined;
    if (changes.length === 0 || shard.ended) this.markTip(shard, started);
    return changes.length > 0 && !shard.ended;
  }

  /**
   * An expired iterator is renewed after the last record read. So is a trimmed one: DynamoDB Local
   * answers TrimmedDataAccessException to a TRIM_HORIZON iterator when a shard's first record comes
   * within about a second of the shard's creation, and a fresh iterator then reads it. Returns
   * false: the next round retries, after the poll interval.
   */
  private onReadError(shard: ShardState, error: unknown): boolean {
    const name = errorName(error);
    if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw error;
    shard.iterator = undefined;
    return false;
  }

  /** The shard has been read to its current end by a read that began at epoch `started`. */
  private markTip(shard: ShardState, started: number): void {
    for (const request of this.requests) {
      if (started >= request.since && !request.targets.has(shard.id)) {
        request.targets.set(shard.id, shard.read);
      }
    }
  }

  /** Applies, shard by shard and in order, the changes whose lag has passed. Returns ms until the next is due. */
  private async applyDue(): Promise<number> {
    let untilDueMs = Number.POSITIVE_INFINITY;
    for (const shard of this.shards.values()) {
      for (let applied = 0; ; applied++) {
        const change = shard.queue[0];
        if (change === undefined || !this.canApply()) break;
        const dueInMs = change.readAt + this.context.state.lagMs - Date.now();
        if (dueInMs > 0 || applied >= APPLIES_PER_ROUND_MAX) {
          untilDueMs = Math.min(untilDueMs, Math.max(dueInMs, 0));
          break;
        }
        await this.applyHead(shard, change);
      }
    }
    return untilDueMs;
  }

  private async applyHead(shard: ShardState, change: Change): Promise<void> {
    const stream = this.stream;
    if (stream === undefined) throw new ReplicatorError('a change was read before its stream was described');
    this.applying = change.kind === 'put' ? this.put(stream, change) : this.remove(change);
    try {
      this.counters[await this.applying] += 1;
    } catch (error) {
      if (!this.giveUp(change, error)) throw error;
    } finally {
      this.applying = undefined;
    }
    shard.queue.shift();
    shard.processed += 1;
  }

  /** Transient failures are retried until they pass; others APPLY_ATTEMPTS_MAX times. */
  private giveUp(change: Change, error: unknown): boolean {
    if (isTransientAwsError(error)) return false;
    change.failures += 1;
    if (change.failures < APPLY_ATTEMPTS_MAX) return false;
    this.counters.failed += 1;
    this.context.log(
      `[replicator] ${this.label()}: dropped ${change.kind} ${JSON.stringify(change.key)} ` +
        `(sequence ${change.sequenceNumber}) after ${change.failures} attempts: ${describeError(error)}`,
    );
    return true;
  }

  private async put(stream: SourceStream, change: Change): Promise<Outcome> {
    const clock = clockOf(change.image);
    if (clock === undefined) return 'skippedUnclocked';
    if (this.writtenIn(clock) === this.target.region) return 'skippedEcho';
    try {
      await this.clients.targetDb.send(
        new PutItemCommand({
          TableName: this.target.tableName,
          Item: change.image,
          ...putCondition(stream.hashKey, clock),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'applied';
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
      return clockOf((error as { Item?: Item }).Item ?? {}) === clock ? 'skippedEcho' : 'skippedOlder';
    }
  }

  private async remove(change: Change): Promise<Outcome> {
    const clock = clockOf(change.image);
    if (clock === undefined) return 'skippedUnclocked';
    try {
      const out = await this.clients.targetDb.send(
        new DeleteItemCommand({
          TableName: this.target.tableName,
          Key: change.key,
          ...removeCondition(clock),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes === undefined ? 'skippedEcho' : 'applied';
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
      return 'skippedOlder';
    }
  }

  /** The region of a clock; a region outside this pair is reported once (echo detection needs it). */
  private writtenIn(clock: string): string {
    const region = clock.slice(clock.lastIndexOf('#') + 1);
    if (region !== this.source.region && region !== this.target.region && !this.warnedForeignClock) {
      this.warnedForeignClock = true;
      this.context.log(
        `[replicator] ${this.label()}: clock ${clock} names neither ${this.source.region} nor ` +
          `${this.target.region}: echoes of deleted items cannot be recognised`,
      );
    }
    return region;
  }

  private onError(error: unknown): number {
    this.errors += 1;
    const quiet = this.context.state.stopped || (isTransientAwsError(error) && this.errors > 1);
    if (!quiet) this.context.log(`[replicator] ${this.label()}: ${describeError(error)}`);
    return backoffMs(this.errors, ERROR_BACKOFF_BASE_MS, ERROR_BACKOFF_CAP_MS);
  }

  private label(): string {
    return `${this.source.region}->${this.target.region}`;
  }
}

/** Sleeps that `wakeAll()` cuts short; after `close()` every sleep returns at once. No timer outlives it. */
class Waker {
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  close(): void {
    this.closed = true;
    this.wakeAll();
  }
}

function directionClients(
  opts: TableReplicatorOptions,
  source: ReplicaTable,
  target: ReplicaTable,
): DirectionClients {
  const config = (to: ReplicaTable) => ({
    region: to.region,
    maxAttempts: SDK_ATTEMPTS_MAX,
    ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint, credentials: EMULATOR_CREDENTIALS }),
    requestHandler:
      opts.network === undefined
        ? new NodeHttpHandler({
            connectionTimeout: CONNECTION_TIMEOUT_MS,
            requestTimeout: REQUEST_TIMEOUT_MS,
          })
        : gatedRequestHandler(opts.network, source.region, to.region),
  });
  return {
    sourceDb: new DynamoDBClient(config(source)),
    streams: new DynamoDBStreamsClient(config(source)),
    targetDb: new DynamoDBClient(config(target)),
  };
}

async function describeSource(dynamodb: DynamoDBClient, tableName: string): Promise<SourceStream> {
  let table: TableDescription | undefined;
  try {
    table = (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    throw new ReplicatorError(`table ${tableName} does not exist`, { cause: error });
  }
  const spec = table?.StreamSpecification;
  const arn = table?.LatestStreamArn;
  if (spec?.StreamEnabled !== true || arn === undefined) {
    throw new ReplicatorError(`table ${tableName} has no stream: create it with ensureTable (provision.ts)`);
  }
  if (spec.StreamViewType !== 'NEW_AND_OLD_IMAGES') {
    throw new ReplicatorError(
      `table ${tableName} streams ${spec.StreamViewType}; NEW_AND_OLD_IMAGES is needed`,
    );
  }
  const hashKey = table?.KeySchema?.find((key) => key.KeyType === 'HASH')?.AttributeName;
  if (hashKey === undefined) throw new ReplicatorError(`table ${tableName} has no hash key`);
  return { arn, hashKey };
}

async function describeShards(streams: DynamoDBStreamsClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let after: string | undefined;
  for (let page = 0; page < SHARD_PAGES_MAX; page++) {
    const out = await streams.send(
      new DescribeStreamCommand({
        StreamArn: streamArn,
        Limit: SHARDS_PER_PAGE_MAX,
        ...(after === undefined ? {} : { ExclusiveStartShardId: after }),
      }),
    );
    shards.push(...(out.StreamDescription?.Shards ?? []));
    after = out.StreamDescription?.LastEvaluatedShardId;
    if (after === undefined) break;
  }
  return shards;
}

/**
 * TRIM_HORIZON the first time; after the last record read when renewing an iterator, unless the
 * stream no longer holds that record (then from the oldest record, and said so: changes were lost).
 */
async function shardIterator(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  shard: ShardState,
  log: (line: string) => void,
): Promise<string> {
  const base = { StreamArn: streamArn, ShardId: shard.id };
  let input: GetShardIteratorCommandInput = { ...base, ShardIteratorType: 'TRIM_HORIZON' };
  if (shard.lastSequence !== undefined) {
    try {
      return iteratorOf(
        await streams.send(
          new GetShardIteratorCommand({
            ...base,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            SequenceNumber: shard.lastSequence,
          }),
        ),
        shard,
      );
    } catch (error) {
      if (errorName(error) !== 'TrimmedDataAccessException') throw error;
      log(
        `[replicator] ${shard.id}: trimmed past ${shard.lastSequence}; changes were lost, reading from the oldest`,
      );
      input = { ...base, ShardIteratorType: 'TRIM_HORIZON' };
    }
  }
  return iteratorOf(await streams.send(new GetShardIteratorCommand(input)), shard);
}

function iteratorOf(out: GetShardIteratorCommandOutput, shard: ShardState): string {
  if (out.ShardIterator === undefined) throw new ReplicatorError(`no iterator for shard ${shard.id}`);
  return out.ShardIterator;
}

function toChange(record: _Record, readAt: number): Change {
  const data = record.dynamodb;
  const sequenceNumber = data?.SequenceNumber;
  const key = data?.Keys;
  if (sequenceNumber === undefined || key === undefined) {
    throw new ReplicatorError('stream record without a sequence number or keys');
  }
  if (record.eventName === 'REMOVE') {
    return { sequenceNumber, kind: 'remove', key, image: data?.OldImage ?? key, readAt, failures: 0 };
  }
  const image = data?.NewImage;
  if (image === undefined) {
    throw new ReplicatorError(`${record.eventName} record ${sequenceNumber} has no NewImage`);
  }
  return { sequenceNumber, kind: 'put', key, image, readAt, failures: 0 };
}

/** The clock, when the item has one: only a string `written` counts. */
function clockOf(item: Item): string | undefined {
  return item[WRITTEN_ATTRIBUTE]?.S;
}

function putCondition(hashKey: string, clock: string) {
  return {
    ConditionExpression: 'attribute_not_exists(#k) OR attribute_not_exists(#w) OR #w < :w',
    ExpressionAttributeNames: { '#k': hashKey, '#w': WRITTEN_ATTRIBUTE },
    ExpressionAttributeValues: { ':w': { S: clock } },
  };
}

function removeCondition(clock: string) {
  return {
    ConditionExpression: 'attribute_not_exists(#w) OR #w <= :w',
    ExpressionAttributeNames: { '#w': WRITTEN_ATTRIBUTE },
    ExpressionAttributeValues: { ':w': { S: clock } },
  };
}

function assertMs(name: string, ms: number, min: number, max: number): void {
  if (!Number.isInteger(ms) || ms < min || ms > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}`);
  }
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string }).name;
}

function describeError(error: unknown): string {
  const name = errorName(error) ?? 'Error';
  return `${name}: ${error instanceof Error ? error.message : String(error)}`;
}
