import { setTimeout as sleep } from 'node:timers/promises';
import { type Summary, summarize } from '../bench/stats.js';
import { prng } from '../bench/workload.js';
import { isSampled, OpenLoopScheduler, pollDelayMs } from './scheduler.js';
import { sigv4Signer } from './sigv4.js';

export interface LoadOptions {
  /** e.g. http://localhost:3000 or the deployed API URL (no trailing slash needed). */
  readonly baseUrl: string;
  readonly rate: number;
  readonly durationS: number;
  readonly accounts: number;
  /** Share of transfers (0..1) that touch the hot account (half as debit, half as credit). */
  readonly hot: number;
  readonly setup: boolean;
  readonly maxInFlight: number;
  /** Share of accepted transfers followed (GET until final) for accept-to-posted latency. */
  readonly sample: number;
  /** Followed transfers polled at once at most; a sample beyond it is skipped (counted). */
  readonly maxFollowing: number;
  /** First poll delay of a followed transfer (doubles up to 2 s). */
  readonly pollMs: number;
  /** After the last request: how long followed transfers may take to become final. */
  readonly settleS: number;
  /** Account ids are `<prefix>-acct-<n>`, `<prefix>-hot`, `<prefix>-treasury`. */
  readonly prefix: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sign every request with SigV4 for this region (API Gateway IAM authorization). */
  readonly sigv4Region?: string;
  readonly requestTimeoutMs: number;
  readonly seed: number;
}

export interface LoadSummary {
  readonly baseUrl: string;
  readonly offeredRate: number;
  readonly durationS: number;
  readonly planned: number;
  readonly sent: number;
  readonly dropped: number;
  /** HTTP status (or `network`, `timeout`) -> count. */
  readonly statuses: Record<string, number>;
  readonly accepted: number;
  readonly acceptedPerSecond: number;
  /**
   * Latency of answered POST /v1/transfers (any HTTP status) measured from when it was due (open
   * loop: includes client-side delay). Timeouts and network errors are in `statuses` only.
   */
  readonly acceptLatencyMs: Summary;
  /** The same measured from when it was actually sent. */
  readonly serviceTimeMs: Summary;
  readonly followed: number;
  readonly followSkipped: number;
  readonly followTimedOut: number;
  readonly finalStatuses: Record<string, number>;
  /** postedAt - acceptedAt of followed transfers (server timestamps). */
  readonly acceptToPostedMs: Summary;
  /** From the request's due time to the poll that saw it final (client clock, poll-interval resolution). */
  readonly observedToFinalMs: Summary;
}

const SETUP_CONCURRENCY = 16;
const SETUP_ATTEMPTS_MAX = 5;
const SETUP_WAIT_MS = 120_000;
const POLL_CAP_MS = 2_000;
const TREASURY_OVERDRAFT = '1000000000000000000';
const FUNDING_AMOUNT = '1000000000000';
const TRANSFER_AMOUNT_MAX = 100;
const TICK_MS_MAX = 10;
const PROGRESS_MS = 1_000;

export function accountId(prefix: string, n: number): string {
  return `${prefix}-acct-${String(n).padStart(6, '0')}`;
}
export const hotId = (prefix: string) => `${prefix}-hot`;
export const treasuryId = (prefix: string) => `${prefix}-treasury`;

interface HttpResult {
  readonly status: number | 'network' | 'timeout';
  readonly body: unknown;
}

function client(options: LoadOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const sign = options.sigv4Region === undefined ? undefined : sigv4Signer(options.sigv4Region);
  return async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<HttpResult> => {
    try {
      const url = new URL(`${base}${path}`);
      const text = body === undefined ? undefined : JSON.stringify(body);
      const plain = {
        ...options.headers,
        ...(text === undefined ? {} : { 'content-type': 'application/json' }),
      };
      const headers = sign === undefined ? plain : await sign(method, url, plain, text);
      const res = await fetch(url, {
        method,
        headers,
        ...(text === undefined ? {} : { body: text }),
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      const answer = await res.text();
      let parsed: unknown = answer;
      try {
        parsed = JSON.parse(answer);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed };
    } catch (error) {
      const name = (error as Error).name;
      return {
        status: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
        body: undefined,
      };
    }
  };
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Opens the treasury (a large overdraft), the accounts and the hot account, and funds each from the
 * treasury. Idempotent: the same ids and bodies again change nothing (a rerun is safe).
 */
export async function setupAccounts(options: LoadOptions, log: (line: string) => void): Promise<void> {
  const http = client(options);
  const p = options.prefix;
  const open = async (id: string, overdraftLimit: string) => {
    for (let attempt = 1; attempt <= SETUP_ATTEMPTS_MAX; attempt++) {
      const res = await http('POST', '/v1/accounts', { id, currency: 'USD', overdraftLimit });
      if (res.status === 200 || res.status === 201) return;
      if (res.status !== 503 && res.status !== 'timeout' && res.status !== 'network') {
        throw new Error(`opening ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      }
      await sleep(500 * attempt);
    }
    throw new Error(`opening ${id}: still unavailable after ${SETUP_ATTEMPTS_MAX} attempts`);
  };
  const began = Date.now();
  await open(treasuryId(p), TREASURY_OVERDRAFT);
  const ids = [...Array.from({ length: options.accounts }, (_, i) => accountId(p, i + 1)), hotId(p)];
  await eachBounded(ids, SETUP_CONCURRENCY, (id) => open(id, '0'));
  log(`setup: ${ids.length + 1} accounts open (${((Date.now() - began) / 1000).toFixed(1)} s); funding`);
  const fundId = (id: string) => `${p}-fund-${id}`.slice(0, 64);
  await eachBounded(ids, SETUP_CONCURRENCY, async (id) => {
    const res = await http('POST', '/v1/transfers', {
      id: fundId(id),
      debitAccountId: treasuryId(p),
      creditAccountId: id,
      amount: FUNDING_AMOUNT,
      currency: 'USD',
    });
    if (res.status !== 200 && res.status !== 202) throw new Error(`funding ${id}: HTTP ${res.status}`);
  });
  const deadline = Date.now() + SETUP_WAIT_MS;
  await eachBounded(ids, SETUP_CONCURRENCY, async (id) => {
    for (let k = 0; Date.now() < deadline; k++) {
      const res = await http('GET', `/v1/transfers/${encodeURIComponent(fundId(id))}`);
      const status = (res.body as { status?: string } | undefined)?.status;
      if (status === 'POSTED') return;
      if (status === 'REJECTED') throw new Error(`funding ${id} was rejected: ${JSON.stringify(res.body)}`);
      await sleep(pollDelayMs(k, 100, POLL_CAP_MS));
    }
    throw new Error(`funding ${id} not posted within ${SETUP_WAIT_MS / 1000} s`);
  });
  log(`setup: funded (${((Date.now() - began) / 1000).toFixed(1)} s)`);
}

interface Counters {
  sent: number;
  accepted: number;
  statuses: Record<string, number>;
  acceptLatency: number[];
  serviceTime: number[];
  following: number;
  followed: number;
  followSkipped: number;
  followTimedOut: number;
  finalStatuses: Record<string, number>;
  acceptToPosted: number[];
  observedToFinal: number[];
}

/** The open-loop run: POST /v1/transfers on the clock, follow a sample to final, summarize. */
export async function runLoad(options: LoadOptions, log: (line: string) => void): Promise<LoadSummary> {
  const http = client(options);
  const random = prng(options.seed);
  const p = options.prefix;
  const runTag = `${p}-${Date.now().toString(36)}`;
  const pick = () => accountId(p, 1 + Math.floor(random() * options.accounts));
  const c: Counters = {
    sent: 0,
    accepted: 0,
    statuses: {},
    acceptLatency: [],
    serviceTime: [],
    following: 0,
    followed: 0,
    followSkipped: 0,
    followTimedOut: 0,
    finalStatuses: {},
    acceptToPosted: [],
    observedToFinal: [],
  };
  const sampleEvery = options.sample > 0 ? Math.max(1, Math.round(1 / options.sample)) : 0;
  const followers: Promise<void>[] = [];
  let followDeadline = Number.POSITIVE_INFINITY;

  const follow = async (id: string, dueMs: number) => {
    c.following++;
    c.followed++;
    try {
      for (let k = 0; performance.now() < followDeadline; k++) {
        await sleep(pollDelayMs(k, options.pollMs, POLL_CAP_MS));
        const res = await http('GET', `/v1/transfers/${encodeURIComponent(id)}`);
        const t = res.body as {
          status?: string;
          acceptedAt?: string;
          postedAt?: string;
          rejectedAt?: string;
        };
        if (res.status !== 200 || t.status === undefined || t.status === 'ACCEPTED') continue;
        c.finalStatuses[t.status] = (c.finalStatuses[t.status] ?? 0) + 1;
        c.observedToFinal.push(performance.now() - dueMs);
        const finalAt = t.postedAt ?? t.rejectedAt;
        if (t.acceptedAt !== undefined && finalAt !== undefined) {
          c.acceptToPosted.push(Date.parse(finalAt) - Date.parse(t.acceptedAt));
        }
        return;
      }
      c.followTimedOut++;
    } finally {
      c.following--;
    }
  };

  const fire = async (seq: number, dueMs: number) => {
    let debit = pick();
    let credit = pick();
    while (options.accounts > 1 && credit === debit) credit = pick();
    if (random() < options.hot) {
      if (random() < 0.5) debit = hotId(p);
      else credit = hotId(p);
    }
    const id = `${runTag}-${seq}`;
    const sentAt = performance.now();
    c.sent++;
    const res = await http('POST', '/v1/transfers', {
      id,
      debitAccountId: debit,
      creditAccountId: credit,
      amount: String(1 + Math.floor(random() * TRANSFER_AMOUNT_MAX)),
      currency: 'USD',
    });
    const done = performance.now();
    c.statuses[String(res.status)] = (c.statuses[String(res.status)] ?? 0) + 1;
    // Latency of answered requests only: a timeout or a network error is counted in statuses.
    if (typeof res.status === 'number') {
      c.acceptLatency.push(done - dueMs);
      c.serviceTime.push(done - sentAt);
    }
    if (res.status !== 202 && res.status !== 200) return;
    if (!isSampled(c.accepted++, sampleEvery)) return;
    if (c.following >= options.maxFollowing) {
      c.followSkipped++;
      return;
    }
    followers.push(follow(id, dueMs));
  };

  if (options.setup) await setupAccounts(options, log);
  const start = performance.now();
  const scheduler = new OpenLoopScheduler(
    { rate: options.rate, durationMs: options.durationS * 1000, maxInFlight: options.maxInFlight },
    start,
  );
  let inFlight = 0;
  const requests: Promise<void>[] = [];
  let lastSent = 0;
  const progress = setInterval(() => {
    const elapsed = (performance.now() - start) / 1000;
    const errors = Object.entries(c.statuses)
      .filter(([s]) => s !== '200' && s !== '202')
      .reduce((n, [, v]) => n + v, 0);
    log(
      `[${elapsed.toFixed(0).padStart(4)} s] sent ${c.sent} (${c.sent - lastSent}/s) accepted ${c.accepted} ` +
        `errors ${errors} dropped ${scheduler.dropped} in-flight ${inFlight} backlog ${scheduler.remaining} ` +
        `| following ${c.following} final ${c.acceptToPosted.length}`,
    );
    lastSent = c.sent;
  }, PROGRESS_MS);
  try {
    while (!scheduler.done) {
      const release = scheduler.tick(performance.now(), inFlight);
      for (const { seq, dueMs } of release.send) {
        inFlight++;
        requests.push(
          fire(seq, dueMs).finally(() => {
            inFlight--;
          }),
        );
      }
      const next = scheduler.nextDueMs();
      if (next !== undefined) await sleep(Math.min(TICK_MS_MAX, Math.max(0, next - performance.now())));
    }
    await Promise.all(requests);
    followDeadline = performance.now() + options.settleS * 1000;
    await Promise.all(followers);
  } finally {
    clearInterval(progress);
  }
  return {
    baseUrl: options.baseUrl,
    offeredRate: options.rate,
    durationS: options.durationS,
    planned: scheduler.planned,
    sent: c.sent,
    dropped: scheduler.dropped,
    statuses: c.statuses,
    accepted: c.accepted,
    acceptedPerSecond: c.accepted / options.durationS,
    acceptLatencyMs: summarize(c.acceptLatency),
    serviceTimeMs: summarize(c.serviceTime),
    followed: c.followed,
    followSkipped: c.followSkipped,
    followTimedOut: c.followTimedOut,
    finalStatuses: c.finalStatuses,
    acceptToPostedMs: summarize(c.acceptToPosted),
    observedToFinalMs: summarize(c.observedToFinal),
  };
}
