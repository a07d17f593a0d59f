import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Random } from './random.js';

/**
 * Test tooling only: an HTTP proxy between the project's SDK clients and one emulator (DynamoDB
 * Local or kinesis-mock) that injects the faults AWS produces, in the wire format AWS uses, so the
 * real SDK parses them exactly as it would in production:
 *
 * - Kinesis PutRecords refusing some entries (ProvisionedThroughputExceededException per entry;
 *   the refused entries are really not written) or the whole call;
 * - Kinesis GetRecords delivering a page twice in a row (a redelivery);
 * - DynamoDB throttling (ThrottlingException, ProvisionedThroughputExceededException, and
 *   TransactionCanceledException with ThrottlingError reasons) on reads and writes;
 * - DynamoDB TransactionCanceledException with a TransactionConflict reason;
 * - "ambiguous" writes: the emulator applied the write but the answer is replaced by a 500, so the
 *   caller cannot tell (the SDK retries; a Kinesis put then lands twice);
 * - latency.
 *
 * Control-plane calls (CreateTable, DescribeStreamSummary, ...) pass through untouched.
 */

export type ProxiedService = 'dynamodb' | 'kinesis';

/** Probabilities in [0, 1], per call (per entry for `putRecordsRefuse`). */
export interface FaultRates {
  /** Kinesis PutRecords: share of entries refused with ProvisionedThroughputExceededException. */
  readonly putRecordsRefuse: number;
  /** Kinesis PutRecords and GetRecords: share of calls refused whole (throttled). */
  readonly kinesisThrottle: number;
  /** Kinesis GetRecords: share of non-empty pages delivered a second time. */
  readonly getRecordsRepeat: number;
  /** DynamoDB data-plane calls answered with a throttling error before reaching the emulator. */
  readonly dynamodbThrottle: number;
  /** DynamoDB TransactWriteItems cancelled with a TransactionConflict reason (nothing written). */
  readonly transactionConflict: number;
  /** Writes (Kinesis puts, DynamoDB writes) applied by the emulator but answered with a 500. */
  readonly ambiguous: number;
  /** Share of data-plane calls delayed by up to `delayMsMax`. */
  readonly delay: number;
  readonly delayMsMax: number;
}

export const NO_FAULTS: FaultRates = {
  putRecordsRefuse: 0,
  kinesisThrottle: 0,
  getRecordsRepeat: 0,
  dynamodbThrottle: 0,
  transactionConflict: 0,
  ambiguous: 0,
  delay: 0,
  delayMsMax: 0,
};

export interface FaultStats {
  requests: number;
  /** Calls answered with a throttling error (whole call). */
  throttled: number;
  /** PutRecords entries refused (not written). */
  entriesRefused: number;
  /** TransactWriteItems cancelled with TransactionConflict. */
  transactionConflicts: number;
  /** Writes applied but answered 500. */
  ambiguous: number;
  /** GetRecords pages delivered twice, and the records in them. */
  pagesRepeated: number;
  recordsRepeated: number;
  delayed: number;
  /** TransactWriteItems the emulator applied (whatever the caller was told). */
  transactionsApplied: number;
  /** Calls in flight right now. */
  inFlight: number;
}

export interface FaultProxyOptions {
  readonly service: ProxiedService;
  /** The emulator, e.g. http://127.0.0.1:8000. */
  readonly target: string;
  readonly random: Random;
  readonly rates?: FaultRates;
  /** Local port; default any free one. */
  readonly port?: number;
  /**
   * Called once the emulator has applied a TransactWriteItems and before its answer is relayed:
   * the chaos runner kills the whole process group here, in the middle of a consumer batch.
   */
  readonly onTransactionApplied?: (count: number) => void;
}

export interface FaultProxy {
  readonly endpoint: string;
  stats(): FaultStats;
  setRates(rates: FaultRates): void;
  /** Stops listening, closes client connections and the sockets to the emulator. */
  close(): Promise<void>;
}

/** Largest request or response relayed (GetRecords pages are at most 10 MB on AWS). */
const BODY_BYTES_MAX = 32 * 1024 * 1024;
/** Pages kept for a repeated delivery; the oldest is forgotten first. */
const REPEAT_STASH_MAX = 64;
const UPSTREAM_SOCKETS_MAX = 64;

const JSON_TYPE: Record<ProxiedService, string> = {
  dynamodb: 'application/x-amz-json-1.0',
  kinesis: 'application/x-amz-json-1.1',
};
const DYNAMODB_ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
const DYNAMODB_WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
]);
const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const KINESIS_DATA_PLANE = new Set(['PutRecords', 'PutRecord', 'GetRecords']);

interface Upstream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/**
 * Starts a proxy in front of `target`. Point an SDK client's endpoint at `endpoint`.
 *
 * @example
 * const proxy = await startFaultProxy({ service: 'kinesis', target: emulators.kinesisEndpoint,
 *   random: new Random(1), rates: { ...NO_FAULTS, putRecordsRefuse: 0.2 } });
 * const kinesis = new KinesisClient({ endpoint: proxy.endpoint, ... });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true, maxSockets: UPSTREAM_SOCKETS_MAX });
  const state: ProxyState = {
    options,
    rates: options.rates ?? NO_FAULTS,
    agent,
    target,
    stats: {
      requests: 0,
      throttled: 0,
      entriesRefused: 0,
      transactionConflicts: 0,
      ambiguous: 0,
      pagesRepeated: 0,
      recordsRepeated: 0,
      delayed: 0,
      transactionsApplied: 0,
      inFlight: 0,
    },
    stash: new Map(),
  };
  const server = createServer((req, res) => {
    state.stats.inFlight += 1;
    handle(state, req, res)
      .catch((error: unknown) => {
        // The emulator went away (or the caller did): answer like a dropped connection.
        if (!res.headersSent) res.destroy(error instanceof Error ? error : undefined);
      })
      .finally(() => {
        state.stats.inFlight -= 1;
      });
  });
  server.keepAliveTimeout = 60_000;
  await listen(server, options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ ...state.stats }),
    setRates: (rates) => {
      state.rates = rates;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

interface ProxyState {
  readonly options: FaultProxyOptions;
  rates: FaultRates;
  readonly agent: Agent;
  readonly target: URL;
  readonly stats: FaultStats;
  /** GetRecords pages to deliver again, by the NextShardIterator they returned. */
  readonly stash: Map<string, Buffer>;
}

async function handle(state: ProxyState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  state.stats.requests += 1;
  const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
  const { service } = state.options;
  const dataPlane =
    service === 'kinesis'
      ? KINESIS_DATA_PLANE.has(operation)
      : DYNAMODB_WRITES.has(operation) || DYNAMODB_READS.has(operation);
  if (!dataPlane) {
    send(res, fromUpstream(await forward(state, req, body)));
    return;
  }
  const { rates, options } = state;
  if (options.random.chance(rates.delay)) {
    state.stats.delayed += 1;
    await sleep(options.random.int(1, Math.max(1, rates.delayMsMax)));
  }
  const answer =
    service === 'kinesis'
      ? await kinesisCall(state, operation, req, body)
      : await dynamodbCall(state, operation, req, body);
  send(res, answer);
}

// ---- Kinesis ----

interface PutRecordsEntry {
  readonly Data: string;
  readonly PartitionKey: string;
}
interface PutRecordsResultEntry {
  SequenceNumber?: string | null;
  ShardId?: string | null;
  ErrorCode?: string | null;
  ErrorMessage?: string | null;
}

async function kinesisCall(
  state: ProxyState,
  operation: string,
  req: IncomingMessage,
  body: Buffer,
): Promise<Answer> {
  const { random } = state.options;
  if (operation === 'GetRecords') {
    const iterator = (JSON.parse(body.toString('utf8')) as { ShardIterator?: string }).ShardIterator ?? '';
    const again = state.stash.get(iterator);
    if (again !== undefined) {
      state.stash.delete(iterator);
      return jsonAnswer('kinesis', 200, again);
    }
  }
  if (random.chance(state.rates.kinesisThrottle)) {
    state.stats.throttled += 1;
    return kinesisError('ProvisionedThroughputExceededException', 'Rate exceeded for shard (injected)');
  }
  if (operation === 'PutRecords') return putRecords(state, req, body);
  const upstream = await forward(state, req, body);
  if (operation === 'GetRecords' && upstream.status === 200) maybeStashPage(state, upstream.body);
  if (operation === 'PutRecord' && upstream.status === 200 && random.chance(state.rates.ambiguous)) {
    state.stats.ambiguous += 1;
    return kinesisError('InternalFailure', 'Internal service failure (injected after the put)', 500);
  }
  return fromUpstream(upstream);
}

async function putRecords(state: ProxyState, req: IncomingMessage, body: Buffer): Promise<Answer> {
  const { random } = state.options;
  const input = JSON.parse(body.toString('utf8')) as { StreamName?: string; Records?: PutRecordsEntry[] };
  const entries = input.Records ?? [];
  const refused = entries.map(() => random.chance(state.rates.putRecordsRefuse));
  const kept = entries.filter((_, i) => !refused[i]);
  state.stats.entriesRefused += entries.length - kept.length;
  let sent: PutRecordsResultEntry[] = [];
  if (kept.length > 0) {
    const upstream = await forward(state, req, Buffer.from(JSON.stringify({ ...input, Records: kept })));
    if (upstream.status !== 200) return fromUpstream(upstream);
    sent =
      (JSON.parse(upstream.body.toString('utf8')) as { Records?: PutRecordsResultEntry[] }).Records ?? [];
    if (random.chance(state.rates.ambiguous)) {
      state.stats.ambiguous += 1;
      return kinesisError('InternalFailure', 'Internal service failure (injected after the put)', 500);
    }
  }
  const records = refused.map(
    (r): PutRecordsResultEntry => (r ? refusedEntry() : (sent.shift() ?? refusedEntry())),
  );
  // kinesis-mock writes `"ErrorCode": null` on success.
  const failed = records.filter((r) => typeof r.ErrorCode === 'string').length;
  return jsonAnswer(
    'kinesis',
    200,
    Buffer.from(JSON.stringify({ FailedRecordCount: failed, Records: records })),
  );
}

function refusedEntry(): PutRecordsResultEntry {
  return {
    ErrorCode: 'ProvisionedThroughputExceededException',
    ErrorMessage: 'Rate exceeded for shard (injected)',
  };
}

function maybeStashPage(state: ProxyState, page: Buffer): void {
  const parsed = JSON.parse(page.toString('utf8')) as { Records?: unknown[]; NextShardIterator?: string };
  const count = parsed.Records?.length ?? 0;
  const next = parsed.NextShardIterator;
  if (count === 0 || next === undefined || !state.options.random.chance(state.rates.getRecordsRepeat)) return;
  if (state.stash.size >= REPEAT_STASH_MAX) {
    const oldest = state.stash.keys().next().value;
    if (oldest !== undefined) state.stash.delete(oldest);
  }
  state.stash.set(next, page);
  state.stats.pagesRepeated += 1;
  state.stats.recordsRepeated += count;
}

function kinesisError(type: string, message: string, status = 400): Answer {
  return jsonAnswer('kinesis', status, Buffer.from(JSON.stringify({ __type: type, message })), type);
}

// ---- DynamoDB ----

async function dynamodbCall(
  state: ProxyState,
  operation: string,
  req: IncomingMessage,
  body: Buffer,
): Promise<Answer> {
  const { random } = state.options;
  const { rates } = state;
  if (random.chance(rates.dynamodbThrottle)) {
    state.stats.throttled += 1;
    if (operation === 'TransactWriteItems' && random.chance(0.5)) {
      return transactionCanceled(
        random,
        body,
        'ThrottlingError',
        'Throughput exceeds the current capacity (injected)',
      );
    }
    const type = random.pick(['ThrottlingException', 'ProvisionedThroughputExceededException']);
    return dynamodbError(type, 'Throughput exceeds the current capacity of your table or index (injected)');
  }
  if (operation === 'TransactWriteItems' && random.chance(rates.transactionConflict)) {
    state.stats.transactionConflicts += 1;
    return transactionCanceled(
      random,
      body,
      'TransactionConflict',
      'Transaction is ongoing for the item (injected)',
    );
  }
  const upstream = await forward(state, req, body);
  if (upstream.status !== 200) return fromUpstream(upstream);
  if (operation === 'TransactWriteItems') {
    state.stats.transactionsApplied += 1;
    state.options.onTransactionApplied?.(state.stats.transactionsApplied);
  }
  if (DYNAMODB_WRITES.has(operation) && random.chance(rates.ambiguous)) {
    state.stats.ambiguous += 1;
    return dynamodbError('InternalServerError', 'Internal server error (injected after the write)', 500);
  }
  return fromUpstream(upstream);
}

/** TransactionCanceledException with one reason per action: `code` on one of them, None on the rest. */
function transactionCanceled(random: Random, body: Buffer, code: string, message: string): Answer {
  const actions = (JSON.parse(body.toString('utf8')) as { TransactItems?: unknown[] }).TransactItems ?? [];
  const culprit = random.int(0, Math.max(0, actions.length - 1));
  const reasons = actions.map((_, i) =>
    i === culprit ? { Code: code, Message: message } : { Code: 'None' },
  );
  const listed = reasons.map((r) => r.Code).join(', ');
  return jsonAnswer(
    'dynamodb',
    400,
    Buffer.from(
      JSON.stringify({
        __type: `${DYNAMODB_ERROR_PREFIX}TransactionCanceledException`,
        Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${listed}]`,
        CancellationReasons: reasons,
      }),
    ),
    'TransactionCanceledException',
  );
}

function dynamodbError(type: string, message: string, status = 400): Answer {
  return jsonAnswer(
    'dynamodb',
    status,
    Buffer.from(JSON.stringify({ __type: `${DYNAMODB_ERROR_PREFIX}${type}`, message })),
    type,
  );
}

// ---- plumbing ----

let requestCounter = 0;

function jsonAnswer(service: ProxiedService, status: number, body: Buffer, errorType?: string): Answer {
  return {
    status,
    headers: {
      'content-type': JSON_TYPE[service],
      'x-amzn-requestid': `chaos-${(requestCounter++).toString(36)}`,
      ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
    },
    body,
  };
}

function fromUpstream(upstream: Upstream): Answer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: upstream.status, headers, body: upstream.body };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
  res.end(answer.body);
}

function forward(state: ProxyState, req: IncomingMessage, body: Buffer): Promise<Upstream> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers['content-length'] = String(body.length);
  headers.host = state.target.host;
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        host: state.target.hostname,
        port: state.target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: state.agent,
      },
      (response) => {
        readBody(response).then(
          (data) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: data }),
          reject,
        );
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_BYTES_MAX) {
        stream.destroy(new RangeError(`body larger than ${BODY_BYTES_MAX} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}
