import type { Random } from './random.js';

/**
 * The bank workload of the chaos run: accounts in two currencies funded by a treasury, concurrent
 * clients sending random transfers through the HTTP API, resending some with the same id (and the
 * amount written as a string or a number: the same request), probing idempotency conflicts, and
 * sending transfers the ledger must reject. Every request is tracked, so the end of the run can
 * say which accepted transfers were lost or applied twice.
 */

export const CURRENCIES = ['USD', 'EUR'] as const;
export type Currency = (typeof CURRENCIES)[number];
/** Each treasury may go this far below zero: the money of the system. */
export const TREASURY_OVERDRAFT = 10n ** 15n;
export const FUNDING_AMOUNT = 100_000n;
/** More than any account can ever hold: a transfer of it must be rejected (insufficient_funds). */
export const IMPOSSIBLE_AMOUNT = 10n ** 17n;
const USER_OVERDRAFTS = [0n, 0n, 0n, 5_000n] as const;
const EUR_SHARE = 0.2;

const REQUEST_TIMEOUT_MS = 15_000;
/** A request that failed (503, 5xx, network) is resent with the same id at most this often. */
export const RESENDS_MAX = 60;
const RESEND_BACKOFF_BASE_MS = 200;
const RESEND_BACKOFF_CAP_MS = 3_000;
const THINK_MS_MAX = 25;
const BATCH_ITEMS_MAX = 8;
const SAMPLES_MAX = 20;

export interface AccountSpec {
  readonly id: string;
  readonly currency: Currency;
  readonly overdraftLimit: bigint;
}

export type TransferKind =
  | 'funding'
  | 'normal'
  | 'reject:insufficient_funds'
  | 'reject:account_not_found'
  | 'reject:same_account'
  | 'reject:currency_mismatch';

export interface TransferSpec {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: Currency;
}

export interface Tracked {
  readonly spec: TransferSpec;
  readonly kind: TransferKind;
  /** Requests that carried this transfer (first send, resends, batch items). */
  requests: number;
  /** An answer 202 or 200 was seen: the API took responsibility for it. */
  accepted: boolean;
  /** Resends still allowed while no 202/200 was seen. */
  resendsLeft: number;
  /** A final status the API showed at some point (must never change afterwards). */
  observedFinal: string | undefined;
}

export interface WorkloadCounters {
  requests: number;
  duplicatesResent: number;
  batches: number;
  conflictProbes: number;
  conflictsAnswered409: number;
  /** Conflicting bodies the API accepted (202/200): a broken idempotency check. */
  conflictsAccepted: number;
  reads: number;
  status: Record<string, number>;
  networkErrors: number;
  /** Answers that must never happen: 5xx other than 503, unexpected 4xx, malformed answers. */
  unexpected: number;
  unexpectedSamples: string[];
  /** A GET showed a transfer final, then later not final or with another status. */
  regressions: number;
  regressionSamples: string[];
  /** Highest account version seen per account (versions never go back). */
  maxVersion: Map<string, number>;
}

/** Where the API currently is; clients wait while the stack is down. */
export class ApiLocation {
  private url: string | undefined;
  private waiters: (() => void)[] = [];

  set(url: string): void {
    this.url = url;
    for (const wake of this.waiters.splice(0)) wake();
  }

  clear(): void {
    this.url = undefined;
  }

  /** The API URL; waits while the stack is down (bounded by `timeoutMs`). */
  async get(timeoutMs: number): Promise<string | undefined> {
    if (this.url !== undefined) return this.url;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.url;
  }
}

export interface HttpAnswer {
  readonly status: number | 'network';
  readonly body: unknown;
}

async function send(api: ApiLocation, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
  const base = await api.get(REQUEST_TIMEOUT_MS);
  if (base === undefined) return { status: 'network', body: 'stack down' };
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: kept as text for the report
    }
    return { status: res.status, body: parsed };
  } catch (error) {
    return { status: 'network', body: (error as Error).message };
  }
}

/** The accounts of a run: a treasury per currency and `users` customer accounts. */
export function planAccounts(users: number, random: Random): AccountSpec[] {
  const accounts: AccountSpec[] = CURRENCIES.map((currency) => ({
    id: `treasury-${currency.toLowerCase()}`,
    currency,
    overdraftLimit: TREASURY_OVERDRAFT,
  }));
  for (let i = 0; i < users; i++) {
    // At least two accounts per currency, so that every kind of transfer can be drawn.
    const currency: Currency = i < 2 ? 'USD' : i < 4 ? 'EUR' : random.chance(EUR_SHARE) ? 'EUR' : 'USD';
    accounts.push({
      id: `u${String(i).padStart(4, '0')}`,
      currency,
      overdraftLimit: random.pick(USER_OVERDRAFTS),
    });
  }
  return accounts;
}

/** Everything the clients share: the accounts, every transfer sent, and the counters. */
export class Workload {
  readonly tracked = new Map<string, Tracked>();
  readonly counters: WorkloadCounters = {
    requests: 0,
    duplicatesResent: 0,
    batches: 0,
    conflictProbes: 0,
    conflictsAnswered409: 0,
    conflictsAccepted: 0,
    reads: 0,
    status: {},
    networkErrors: 0,
    unexpected: 0,
    unexpectedSamples: [],
    regressions: 0,
    regressionSamples: [],
    maxVersion: new Map(),
  };
  private readonly byCurrency: Map<Currency, AccountSpec[]>;
  private readonly sent: Tracked[] = [];
  private nextId = 0;

  constructor(
    readonly accounts: readonly AccountSpec[],
    readonly api: ApiLocation,
    private readonly runTag: string,
  ) {
    this.byCurrency = new Map(
      CURRENCIES.map((c) => [c, accounts.filter((a) => a.currency === c && !a.id.startsWith('treasury'))]),
    );
  }

  /** Opens every account (idempotent: 201 or 200), resending on 503 and network errors. */
  async openAccounts(deadline: number, concurrency: number): Promise<void> {
    const queue = [...this.accounts];
    const worker = async (): Promise<void> => {
      for (let account = queue.shift(); account !== undefined; account = queue.shift()) {
        await this.openAccount(account, deadline);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  private async openAccount(account: AccountSpec, deadline: number): Promise<void> {
    const body = {
      id: account.id,
      currency: account.currency,
      overdraftLimit: account.overdraftLimit.toString(),
    };
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const answer = await this.request('POST', '/v1/accounts', body);
      if (answer.status === 201 || answer.status === 200) return;
      if (!isRetryable(answer.status)) this.unexpected(`open ${account.id}`, answer);
      await sleep(backoff(attempt));
    }
    throw new Error(`account ${account.id} did not open before the deadline`);
  }

  /** The funding transfers, one per customer account, from its currency's treasury. */
  fundingTransfers(): Tracked[] {
    return this.accounts
      .filter((a) => !a.id.startsWith('treasury'))
      .map((a) =>
        this.track('funding', {
          id: this.newId('fund'),
          debitAccountId: `treasury-${a.currency.toLowerCase()}`,
          creditAccountId: a.id,
          amount: FUNDING_AMOUNT,
          currency: a.currency,
        }),
      );
  }

  /** One client: random actions until `stopped()`, resending what failed. */
  async runClient(random: Random, stopped: () => boolean, initial: readonly Tracked[] = []): Promise<void> {
    const retries: { tracked: Tracked; notBefore: number; attempt: number }[] = initial.map((tracked) => ({
      tracked,
      notBefore: 0,
      attempt: 0,
    }));
    while (!stopped()) {
      const due = retries.findIndex((r) => r.notBefore <= Date.now());
      if (due >= 0) {
        const [retry] = retries.splice(due, 1);
        if (retry !== undefined && !retry.tracked.accepted && !(await this.submit(retry.tracked, random))) {
          this.requeue(retries, retry.tracked, retry.attempt + 1);
        }
      } else {
        const failed = await this.randomAction(random);
        for (const tracked of failed) this.requeue(retries, tracked, 0);
      }
      await sleep(random.int(0, THINK_MS_MAX));
    }
  }

  private requeue(
    retries: { tracked: Tracked; notBefore: number; attempt: number }[],
    tracked: Tracked,
    attempt: number,
  ): void {
    if (tracked.accepted || tracked.resendsLeft <= 0) return;
    retries.push({ tracked, notBefore: Date.now() + backoff(attempt), attempt });
  }

  /** Resends every transfer that never got a 202/200 until it does (the end of the run). */
  async settle(deadline: number, concurrency: number): Promise<number> {
    const open = [...this.tracked.values()].filter((t) => !t.accepted);
    const worker = async (): Promise<void> => {
      for (let t = open.shift(); t !== undefined; t = open.shift()) {
        for (let attempt = 0; !t.accepted && Date.now() < deadline; attempt++) {
          if (await this.submit(t, undefined)) break;
          await sleep(backoff(attempt));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return [...this.tracked.values()].filter((t) => !t.accepted).length;
  }

  /** Returns the transfers whose request failed in a way worth resending. */
  private async randomAction(random: Random): Promise<Tracked[]> {
    const roll = random.next();
    if (roll < 0.55) return this.sendNew('normal', random);
    if (roll < 0.61) return this.sendBatch(random);
    if (roll < 0.71) return this.resendDuplicate(random);
    if (roll < 0.74) return this.probeConflict(random);
    if (roll < 0.76) return this.sendNew('reject:insufficient_funds', random);
    if (roll < 0.78) return this.sendNew('reject:account_not_found', random);
    if (roll < 0.8) return this.sendNew('reject:same_account', random);
    if (roll < 0.82) return this.sendNew('reject:currency_mismatch', random);
    if (roll < 0.92) return this.readTransfer(random);
    return this.readAccount(random);
  }

  private async sendNew(kind: TransferKind, random: Random): Promise<Tracked[]> {
    const tracked = this.track(kind, this.draw(kind, random));
    return (await this.submit(tracked, random)) ? [] : [tracked];
  }

  private async sendBatch(random: Random): Promise<Tracked[]> {
    // Several transfers from one debit account among them: their order in the batch matters.
    const items = Array.from({ length: random.int(2, BATCH_ITEMS_MAX) }, () =>
      this.track('normal', this.draw('normal', random)),
    );
    this.counters.batches += 1;
    for (const t of items) t.requests += 1;
    const answer = await this.request('POST', '/v1/transfers/batch', {
      transfers: items.map((t) => wireBody(t.spec, random)),
    });
    if (answer.status !== 202) {
      if (!isRetryable(answer.status)) this.unexpected('batch', answer);
      return items;
    }
    const results = (answer.body as { results?: { index: number; httpStatus: number; status: string }[] })
      .results;
    const failed: Tracked[] = [];
    items.forEach((t, i) => {
      const result = results?.find((r) => r.index === i);
      const status = result?.httpStatus ?? 0;
      this.count(`batch item ${status}`);
      if (status === 202 || status === 200) t.accepted = true;
      else {
        if (!isRetryable(status)) this.unexpected(`batch item ${t.spec.id}`, { status, body: result });
        failed.push(t);
      }
    });
    return failed;
  }

  private async resendDuplicate(random: Random): Promise<Tracked[]> {
    if (this.sent.length === 0) return [];
    const tracked = random.pick(this.sent);
    this.counters.duplicatesResent += 1;
    return (await this.submit(tracked, random)) ? [] : [tracked];
  }

  /** Same id, another amount: must be 409 (or 503), never accepted. */
  private async probeConflict(random: Random): Promise<Tracked[]> {
    const candidates = this.sent.filter((t) => t.accepted);
    if (candidates.length === 0) return [];
    const tracked = random.pick(candidates);
    this.counters.conflictProbes += 1;
    const body = wireBody({ ...tracked.spec, amount: tracked.spec.amount + 1n }, random);
    const answer = await this.request('POST', '/v1/transfers', body);
    if (answer.status === 409) this.counters.conflictsAnswered409 += 1;
    else if (answer.status === 202 || answer.status === 200) {
      this.counters.conflictsAccepted += 1;
      this.unexpected(`conflicting body accepted for ${tracked.spec.id}`, answer);
    } else if (!isRetryable(answer.status)) this.unexpected(`conflict probe ${tracked.spec.id}`, answer);
    return [];
  }

  private async readTransfer(random: Random): Promise<Tracked[]> {
    const candidates = this.sent.filter((t) => t.accepted);
    if (candidates.length === 0) return [];
    const tracked = random.pick(candidates);
    const answer = await this.request('GET', `/v1/transfers/${tracked.spec.id}`);
    if (answer.status === 200) this.observe(tracked, answer.body as { status?: string });
    else if (!isRetryable(answer.status)) this.unexpected(`GET transfer ${tracked.spec.id}`, answer);
    return [];
  }

  private async readAccount(random: Random): Promise<Tracked[]> {
    const account = random.pick(this.accounts);
    const answer = await this.request('GET', `/v1/accounts/${account.id}`);
    if (answer.status === 200) {
      const version = (answer.body as { version?: number }).version ?? 0;
      const max = this.counters.maxVersion.get(account.id) ?? 0;
      if (version < max) this.regression(`account ${account.id} version went from ${max} to ${version}`);
      this.counters.maxVersion.set(account.id, Math.max(max, version));
    } else if (!isRetryable(answer.status)) this.unexpected(`GET account ${account.id}`, answer);
    return [];
  }

  /** POST /v1/transfers once; true when the answer settles it (202/200). */
  async submit(tracked: Tracked, random: Random | undefined): Promise<boolean> {
    tracked.requests += 1;
    if (!tracked.accepted) tracked.resendsLeft -= 1;
    const answer = await this.request('POST', '/v1/transfers', wireBody(tracked.spec, random));
    if (answer.status === 202 || answer.status === 200) {
      tracked.accepted = true;
      if (answer.status === 200) this.observe(tracked, answer.body as { status?: string });
      return true;
    }
    if (!isRetryable(answer.status)) this.unexpected(`POST ${tracked.kind} ${tracked.spec.id}`, answer);
    return false;
  }

  /** A final status, once seen, must stay. */
  observe(tracked: Tracked, view: { status?: string } | undefined): void {
    const status = view?.status;
    if (status === undefined || status === 'ACCEPTED') {
      if (tracked.observedFinal !== undefined) {
        this.regression(`${tracked.spec.id} was ${tracked.observedFinal}, now ${status ?? 'missing'}`);
      }
      return;
    }
    if (tracked.observedFinal !== undefined && tracked.observedFinal !== status) {
      this.regression(`${tracked.spec.id} was ${tracked.observedFinal}, now ${status}`);
    }
    tracked.observedFinal = status;
  }

  private async request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    this.counters.requests += 1;
    if (method === 'GET') this.counters.reads += 1;
    const answer = await send(this.api, method, path, body);
    this.count(String(answer.status));
    if (answer.status === 'network') this.counters.networkErrors += 1;
    return answer;
  }

  private count(key: string): void {
    this.counters.status[key] = (this.counters.status[key] ?? 0) + 1;
  }

  private unexpected(what: string, answer: HttpAnswer): void {
    this.counters.unexpected += 1;
    if (this.counters.unexpectedSamples.length < SAMPLES_MAX) {
      this.counters.unexpectedSamples.push(
        `${what}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
      );
    }
  }

  private regression(what: string): void {
    this.counters.regressions += 1;
    if (this.counters.regressionSamples.length < SAMPLES_MAX) this.counters.regressionSamples.push(what);
  }

  private track(kind: TransferKind, spec: TransferSpec): Tracked {
    const tracked: Tracked = {
      spec,
      kind,
      requests: 0,
      accepted: false,
      resendsLeft: RESENDS_MAX,
      observedFinal: undefined,
    };
    this.tracked.set(spec.id, tracked);
    this.sent.push(tracked);
    return tracked;
  }

  private newId(prefix: string): string {
    this.nextId += 1;
    return `${this.runTag}-${prefix}-${this.nextId}`;
  }

  /** A transfer of the given kind between drawn accounts. */
  private draw(kind: TransferKind, random: Random): TransferSpec {
    const currency: Currency = random.chance(EUR_SHARE) ? 'EUR' : 'USD';
    const users = this.byCurrency.get(currency) ?? [];
    const from = random.pick(users);
    const others = users.filter((u) => u.id !== from.id);
    const to = random.pick(others);
    const amount = random.chance(0.05) ? BigInt(random.int(20_000, 150_000)) : BigInt(random.int(1, 5_000));
    const base = { id: this.newId(kind === 'normal' ? 't' : kind.replace('reject:', 'r-')), currency };
    switch (kind) {
      case 'reject:insufficient_funds':
        return { ...base, debitAccountId: from.id, creditAccountId: to.id, amount: IMPOSSIBLE_AMOUNT };
      case 'reject:account_not_found':
        return random.chance(0.5)
          ? { ...base, debitAccountId: from.id, creditAccountId: `ghost-${random.int(0, 999)}`, amount }
          : { ...base, debitAccountId: `ghost-${random.int(0, 999)}`, creditAccountId: to.id, amount };
      case 'reject:same_account':
        return { ...base, debitAccountId: from.id, creditAccountId: from.id, amount };
      case 'reject:currency_mismatch': {
        const other = this.byCurrency.get(currency === 'USD' ? 'EUR' : 'USD') ?? [];
        return { ...base, debitAccountId: from.id, creditAccountId: random.pick(other).id, amount };
      }
      default:
        return { ...base, debitAccountId: from.id, creditAccountId: to.id, amount };
    }
  }
}

/** The request body; the amount as a string or a JSON number (the same request either way). */
function wireBody(spec: TransferSpec, random: Random | undefined): Record<string, unknown> {
  const asNumber = random?.chance(0.3) === true && spec.amount <= BigInt(Number.MAX_SAFE_INTEGER);
  return {
    id: spec.id,
    debitAccountId: spec.debitAccountId,
    creditAccountId: spec.creditAccountId,
    amount: asNumber ? Number(spec.amount) : spec.amount.toString(),
    currency: spec.currency,
  };
}

/** 503 (the API says retry), and what a dying stack produces (network errors, gateway errors). */
function isRetryable(status: number | 'network'): boolean {
  return status === 'network' || status === 503;
}

function backoff(attempt: number): number {
  return Math.min(RESEND_BACKOFF_CAP_MS, RESEND_BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
