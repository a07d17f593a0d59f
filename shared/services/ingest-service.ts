import { createHash, randomUUID } from 'node:crypto';
import {
  ATOMIC_LEGS_MAX,
  atomicGroupCommand,
  type LedgerCommand,
  openAccountCommand,
  transferCommand,
  type UpdateAccountCommand,
} from '../domain/commands.js';
import {
  type Account,
  type AccountSpec,
  type AccountStatus,
  accountFingerprint,
  type Transfer,
  type TransferRequest,
  TransferStatus,
  transferFingerprint,
} from '../domain/ledger.js';
import { formatMinorUnits } from '../domain/money.js';
import type { CommandQueue } from '../ports/command-queue.js';
import type {
  LedgerReader,
  StatementPage,
  StatementPageRequest,
  TransferRecorder,
} from '../ports/ledger-store.js';
import { type RegionEndpoint, type Regions, singleRegion } from '../ports/regions.js';
import { CommandRouter } from './command-router.js';
import { mapBounded } from './concurrency.js';

/** How long POST /v1/accounts waits for the consumer to open the account before answering 503. */
export const ACCOUNT_OPEN_WAIT_MS = 8_000;
const ACCOUNT_POLL_MS_MIN = 20;
const ACCOUNT_POLL_MS_MAX = 250;
/** Concurrent conditional writes while recording a batch (DynamoDB has no conditional batch put). */
export const RECORD_CONCURRENCY_MAX = 16;

export type SubmitOutcome =
  /** Recorded now and durably in the stream: 202. */
  | { readonly kind: 'accepted'; readonly transfer: Transfer }
  /** The same request again: its current state (202 if still ACCEPTED, re-enqueued; 200 if final). */
  | { readonly kind: 'existing'; readonly transfer: Transfer }
  /** Same id, different body: 409 idempotency_conflict. */
  | { readonly kind: 'conflict'; readonly existing: Transfer }
  /** Recorded, but the stream refused it after bounded retries: 503, retry with the same id. */
  | { readonly kind: 'unavailable'; readonly transfer: Transfer; readonly errorCode: string }
  /** The record itself could not be written (throttled store): 503, nothing recorded or queued. */
  | { readonly kind: 'unrecorded'; readonly id: string; readonly errorCode: string };

/** Distinct accounts in an atomic batch: legs + 2 x accounts must fit one 100-item transaction. */
export const ATOMIC_ACCOUNTS_MAX = 37;
/** Longest synchronous wait a client may ask for (Prefer: wait=N). */
export const WAIT_SECONDS_MAX = 10;

/** Outcome of a capture, void or reverse request, known at request time. */
export type HoldActionOutcome =
  /** Queued: 202 (or 200 with the final state after a wait). */
  | { readonly kind: 'accepted'; readonly transfer: Transfer }
  /** This very action already happened: 200 with the transfer. */
  | { readonly kind: 'done'; readonly transfer: Transfer }
  | { readonly kind: 'not_found' }
  /** 409 with `code` (hold_not_active, not_a_hold, transfer_not_posted, already_reversed). */
  | { readonly kind: 'conflict'; readonly code: string; readonly transfer: Transfer }
  /** 422: the request contradicts the transfer (amount above the held amount). */
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'unavailable'; readonly errorCode: string };

export type UpdateAccountOutcome =
  | { readonly kind: 'updated'; readonly account: Account }
  | { readonly kind: 'refused'; readonly reason: string; readonly account: Account }
  | { readonly kind: 'not_found' }
  /** Queued, not applied within the wait: 202. */
  | { readonly kind: 'pending'; readonly account: Account }
  | { readonly kind: 'unavailable'; readonly errorCode: string };

export type AtomicOutcome =
  | { readonly kind: 'accepted'; readonly transfers: readonly Transfer[] }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'conflict'; readonly id: string }
  | { readonly kind: 'unavailable'; readonly errorCode: string };

export type OpenAccountOutcome =
  | { readonly kind: 'created'; readonly account: Account }
  | { readonly kind: 'existing'; readonly account: Account }
  | { readonly kind: 'conflict'; readonly account: Account }
  /** 422: the request names a home region that is not part of the deployment. */
  | { readonly kind: 'invalid'; readonly message: string }
  /** Not yet opened within the wait (or the stream refused): 503, retry with the same request. */
  | { readonly kind: 'unavailable'; readonly errorCode: string };

export interface IngestDeps {
  readonly reader: LedgerReader;
  readonly recorder: TransferRecorder;
  readonly queue: CommandQueue;
  /** The region that receives the request; new accounts are homed here unless they say otherwise. */
  readonly region: string;
  /**
   * Every region of the deployment. Writes go to the home region of the account whose order
   * matters (the debit account): recorded in its table replica, put on its stream. Default: only
   * `region`, over `reader`, `recorder` and `queue`.
   */
  readonly regions?: Regions;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly accountOpenWaitMs?: number;
}

/**
 * The edge's use cases. A transfer is recorded ACCEPTED first (so GET shows it at once and a
 * different body under the same id is a conflict), then put on the stream; only then is it 202.
 * If the put fails the record stays ACCEPTED: the client's retry re-enqueues it, and so does the
 * reconciler, which re-enqueues ACCEPTED transfers older than a grace period. The consumer applies a
 * transfer once however often it is enqueued.
 */
export class IngestService {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly accountOpenWaitMs: number;
  private readonly regions: Regions;
  private readonly router: CommandRouter;

  constructor(private readonly deps: IngestDeps) {
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.accountOpenWaitMs = deps.accountOpenWaitMs ?? ACCOUNT_OPEN_WAIT_MS;
    this.regions =
      deps.regions ??
      singleRegion(
        { region: deps.region, reader: deps.reader, recorder: deps.recorder, queue: deps.queue },
        async () => new Map(),
      );
    this.router = new CommandRouter(this.regions);
  }

  /** The regions of the deployment (the first is this one). */
  get regionNames(): readonly string[] {
    return this.regions.names;
  }

  /** The endpoint of each account's home region (this region for an account it does not know). */
  private async homesOf(accountIds: readonly string[]): Promise<Map<string, RegionEndpoint>> {
    const homes = await this.regions.homesOf([...new Set(accountIds)]);
    return new Map(accountIds.map((id) => [id, this.regions.endpoint(homes.get(id) ?? this.regions.local)]));
  }

  private async homeOf(accountId: string): Promise<RegionEndpoint> {
    const home = (await this.homesOf([accountId])).get(accountId);
    if (home === undefined) throw new Error(`no home for ${accountId}`);
    return home;
  }

  async submitTransfer(request: TransferRequest): Promise<SubmitOutcome> {
    const [outcome] = await this.submitTransfers([request]);
    if (outcome === undefined) throw new Error('submitTransfers returned no outcome');
    return outcome;
  }

  /** Records each transfer, then enqueues every one that needs it in a single stream call. */
  async submitTransfers(requests: readonly TransferRequest[]): Promise<SubmitOutcome[]> {
    const acceptedAt = this.now().toISOString();
    const homes = await this.homesOf(requests.map((r) => r.debitAccountId));
    const homeOf = (r: TransferRequest): RegionEndpoint => homes.get(r.debitAccountId) ?? this.local();
    const recorded = await mapBounded(requests, RECORD_CONCURRENCY_MAX, (r) =>
      this.record(homeOf(r).recorder, r, acceptedAt),
    );
    const toEnqueue = new Map<string, { command: LedgerCommand; indexes: number[]; home: RegionEndpoint }>();
    recorded.forEach((outcome, index) => {
      if (outcome.kind === 'conflict' || outcome.kind === 'unrecorded') return;
      if (outcome.transfer.status !== TransferStatus.ACCEPTED) return;
      const id = outcome.transfer.id;
      const slot = toEnqueue.get(id) ?? {
        command: transferCommand(outcome.transfer, outcome.transfer.fingerprint, outcome.transfer.acceptedAt),
        indexes: [],
        home: homeOf(outcome.transfer),
      };
      slot.indexes.push(index);
      toEnqueue.set(id, slot);
    });
    if (toEnqueue.size === 0) return recorded;
    const slots = [...toEnqueue.values()];
    const results = await this.enqueueAtHomes(slots);
    const final = [...recorded];
    slots.forEach((slot, i) => {
      const result = results[i];
      if (result === undefined || result.ok) return;
      for (const index of slot.indexes) {
        const outcome = final[index];
        if (outcome?.kind === 'accepted' || outcome?.kind === 'existing') {
          final[index] = {
            kind: 'unavailable',
            transfer: outcome.transfer,
            errorCode: result.errorCode ?? 'NotSent',
          };
        }
      }
    });
    return final;
  }

  /** Each slot's command on its home region's stream (recorded there already), outcomes in slot order. */
  private enqueueAtHomes(slots: readonly { command: LedgerCommand; home: RegionEndpoint }[]) {
    return this.router.sendTo(
      slots.map((s) => s.command),
      slots.map((s) => s.home.region),
      { recorded: true },
    );
  }

  private local(): RegionEndpoint {
    return this.regions.endpoint(this.regions.local);
  }

  async openAccount(spec: AccountSpec & { readonly homeRegion?: string }): Promise<OpenAccountOutcome> {
    const homeRegion = spec.homeRegion ?? this.regions.local;
    if (!this.regions.names.includes(homeRegion)) {
      return {
        kind: 'invalid',
        message: `homeRegion must be one of ${this.regions.names.join(', ')}`,
      };
    }
    const { homeRegion: _chosen, ...plain } = spec;
    const fingerprint = accountFingerprint(plain);
    const home = this.regions.endpoint(homeRegion);
    const existing =
      (await this.deps.reader.getAccount(spec.id)) ?? (await this.readAt(home, (r) => r.getAccount(spec.id)));
    if (existing !== undefined) return compareAccount(existing, fingerprint, 'existing');
    const command = openAccountCommand(plain, homeRegion, fingerprint, this.now().toISOString());
    const [result] = await this.enqueueAtHomes([{ command, home }]);
    if (result === undefined || !result.ok)
      return { kind: 'unavailable', errorCode: result?.errorCode ?? 'NotSent' };
    const opened = await this.waitForAccount(home.reader, spec.id);
    if (opened === undefined) return { kind: 'unavailable', errorCode: 'AccountNotYetOpen' };
    return compareAccount(opened, fingerprint, 'created');
  }

  /**
   * An atomic batch: every leg is recorded ACCEPTED with the batch's group id, then one command
   * carries them all, so they are applied in order as one unit (all POSTED or all REJECTED).
   * The group id is derived from the leg ids, so resending the same batch is idempotent.
   */
  async submitAtomic(requests: readonly Omit<TransferRequest, 'groupId'>[]): Promise<AtomicOutcome> {
    if (requests.length === 0 || requests.length > ATOMIC_LEGS_MAX) {
      return { kind: 'invalid', message: `an atomic batch has 1 to ${ATOMIC_LEGS_MAX} transfers` };
    }
    const ids = requests.map((r) => r.id);
    if (new Set(ids).size !== ids.length)
      return { kind: 'invalid', message: 'transfer ids in an atomic batch must differ' };
    const accounts = new Set(requests.flatMap((r) => [r.debitAccountId, r.creditAccountId]));
    if (accounts.size > ATOMIC_ACCOUNTS_MAX) {
      return {
        kind: 'invalid',
        message: `an atomic batch touches at most ${ATOMIC_ACCOUNTS_MAX} distinct accounts`,
      };
    }
    if (requests.some((r) => r.holdTimeoutSeconds !== undefined || r.reversalOf !== undefined)) {
      return {
        kind: 'invalid',
        message: 'an atomic batch holds plain transfers only (no hold, no reversal)',
      };
    }
    const groupId = `grp-${createHash('sha256').update(ids.join('\n')).digest('base64url').slice(0, 24)}`;
    const legs = requests.map((r) => ({
      request: { ...r, groupId },
      fingerprint: transferFingerprint({ ...r, groupId }),
    }));
    const acceptedAt = this.now().toISOString();
    const home = await this.homeOf(requests[0]?.debitAccountId ?? '');
    const recorded = await mapBounded(legs, RECORD_CONCURRENCY_MAX, (l) =>
      home.recorder.recordAccepted(l.request, l.fingerprint, acceptedAt),
    );
    const transfers: Transfer[] = [];
    for (const [i, r] of recorded.entries()) {
      const transfer = r.created ? r.transfer : r.existing;
      if (transfer.fingerprint !== legs[i]?.fingerprint) return { kind: 'conflict', id: transfer.id };
      transfers.push(transfer);
    }
    if (transfers.every((t) => t.status !== TransferStatus.ACCEPTED)) return { kind: 'accepted', transfers };
    const [result] = await this.enqueueAtHomes([
      { command: atomicGroupCommand(groupId, legs, acceptedAt), home },
    ]);
    if (result === undefined || !result.ok)
      return { kind: 'unavailable', errorCode: result?.errorCode ?? 'NotSent' };
    return { kind: 'accepted', transfers };
  }

  /** Capture all or part of a hold. Idempotent: the same capture again answers its result. */
  async capture(id: string, amount: bigint | undefined): Promise<HoldActionOutcome> {
    const transfer = await this.deps.reader.getTransfer(id);
    if (transfer === undefined) return { kind: 'not_found' };
    if (transfer.holdTimeoutSeconds === undefined) return { kind: 'conflict', code: 'not_a_hold', transfer };
    if (amount !== undefined && amount > transfer.amount) {
      return {
        kind: 'invalid',
        message: `amount exceeds the held amount (${formatMinorUnits(transfer.amount)})`,
      };
    }
    const requestId = `capture:${id}:${amount === undefined ? 'all' : formatMinorUnits(amount)}`;
    if (transfer.actions?.[requestId]?.outcome === 'applied') return { kind: 'done', transfer };
    if (transfer.status !== TransferStatus.HELD && transfer.status !== TransferStatus.ACCEPTED) {
      return { kind: 'conflict', code: 'hold_not_active', transfer };
    }
    return this.enqueueHoldAction(transfer, 'capture', requestId, amount);
  }

  /** Release a hold. Idempotent: voiding a voided hold answers its state. */
  async void(id: string): Promise<HoldActionOutcome> {
    const transfer = await this.deps.reader.getTransfer(id);
    if (transfer === undefined) return { kind: 'not_found' };
    if (transfer.holdTimeoutSeconds === undefined) return { kind: 'conflict', code: 'not_a_hold', transfer };
    const requestId = `void:${id}`;
    if (transfer.actions?.[requestId]?.outcome === 'applied') return { kind: 'done', transfer };
    if (transfer.status !== TransferStatus.HELD && transfer.status !== TransferStatus.ACCEPTED) {
      return { kind: 'conflict', code: 'hold_not_active', transfer };
    }
    return this.enqueueHoldAction(transfer, 'void', requestId, undefined);
  }

  /**
   * A new transfer moving a POSTED transfer's amount back, applied like any transfer (so it is
   * rejected with insufficient_funds if the credited account has spent it). Idempotent by its id.
   */
  async reverse(originalId: string, reversalId: string): Promise<HoldActionOutcome> {
    const original = await this.deps.reader.getTransfer(originalId);
    if (original === undefined) return { kind: 'not_found' };
    if (original.status !== TransferStatus.POSTED)
      return { kind: 'conflict', code: 'transfer_not_posted', transfer: original };
    if (original.reversalOf !== undefined)
      return { kind: 'conflict', code: 'transfer_not_reversible', transfer: original };
    if (original.reversedBy !== undefined && original.reversedBy !== reversalId) {
      return { kind: 'conflict', code: 'already_reversed', transfer: original };
    }
    const outcome = await this.submitTransfer({
      id: reversalId,
      debitAccountId: original.creditAccountId,
      creditAccountId: original.debitAccountId,
      amount: original.capturedAmount ?? original.amount,
      currency: original.currency,
      reference: `reversal of ${original.id}`,
      reversalOf: original.id,
    });
    switch (outcome.kind) {
      case 'accepted':
        return { kind: 'accepted', transfer: outcome.transfer };
      case 'existing':
        return {
          kind: outcome.transfer.status === TransferStatus.ACCEPTED ? 'accepted' : 'done',
          transfer: outcome.transfer,
        };
      case 'conflict':
        return { kind: 'conflict', code: 'idempotency_conflict', transfer: outcome.existing };
      case 'unavailable':
      case 'unrecorded':
        return { kind: 'unavailable', errorCode: outcome.errorCode };
    }
  }

  /**
   * Changes an account's limit or status through the stream, ordered with its debits, and waits
   * (bounded) for the consumer's verdict.
   */
  async updateAccount(
    id: string,
    change: { readonly overdraftLimit?: bigint; readonly status?: AccountStatus },
    requestId: string = randomUUID(),
  ): Promise<UpdateAccountOutcome> {
    const account = await this.deps.reader.getAccount(id);
    if (account === undefined) return { kind: 'not_found' };
    if (account.lastRequest?.requestId === requestId) return verdict(account);
    // An older request with this key was already applied: answer the account as it is.
    if (account.recentRequestIds?.includes(requestId)) return { kind: 'updated', account };
    const command: UpdateAccountCommand = {
      v: 1,
      type: 'update_account',
      accountId: id,
      requestId,
      requestedAt: this.now().toISOString(),
      ...(change.overdraftLimit === undefined
        ? {}
        : { overdraftLimit: formatMinorUnits(change.overdraftLimit) }),
      ...(change.status === undefined ? {} : { status: change.status }),
    };
    // The account just read names its home: no second read to find it.
    const home = this.regions.endpoint(account.homeRegion);
    const [result] = await this.enqueueAtHomes([{ command, home }]);
    if (result === undefined || !result.ok)
      return { kind: 'unavailable', errorCode: result?.errorCode ?? 'NotSent' };
    const seen = await this.poll(
      () => this.readAt(home, (r) => r.getAccount(id)),
      (a) => a?.lastRequest?.requestId === requestId,
      this.accountOpenWaitMs,
    );
    return seen === undefined ? { kind: 'pending', account } : verdict(seen);
  }

  /** Waits (bounded by `seconds`, at most WAIT_SECONDS_MAX) until the transfer leaves `from`. */
  async waitForTransfer(
    id: string,
    seconds: number,
    from: readonly string[] = [TransferStatus.ACCEPTED, TransferStatus.DEBITED],
  ): Promise<Transfer | undefined> {
    const ms = Math.min(seconds, WAIT_SECONDS_MAX) * 1000;
    // The home region of the debit account applies it: wait on its replica (no replication delay).
    const known = await this.deps.reader.getTransfer(id);
    const home = known === undefined ? this.local() : await this.homeOf(known.debitAccountId);
    const settled = await this.poll(
      () => this.readAt(home, (r) => r.getTransfer(id)),
      (t) => t !== undefined && !from.includes(t.status),
      ms,
    );
    return settled ?? this.readAt(home, (r) => r.getTransfer(id));
  }

  /** A read in another region's replica; an unreachable region reads as "not there yet". */
  private async readAt<T>(
    home: RegionEndpoint,
    read: (r: LedgerReader) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    if (home.region === this.regions.local) return read(this.deps.reader);
    try {
      return await read(home.reader);
    } catch {
      return undefined;
    }
  }

  private async enqueueHoldAction(
    transfer: Transfer,
    type: 'capture' | 'void',
    requestId: string,
    amount: bigint | undefined,
  ): Promise<HoldActionOutcome> {
    const home = await this.homeOf(transfer.debitAccountId);
    const [result] = await this.enqueueAtHomes([
      {
        home,
        command: {
          v: 1,
          type,
          transferId: transfer.id,
          debitAccountId: transfer.debitAccountId,
          requestId,
          requestedAt: this.now().toISOString(),
          ...(amount === undefined ? {} : { amount: formatMinorUnits(amount) }),
        },
      },
    ]);
    if (result === undefined || !result.ok)
      return { kind: 'unavailable', errorCode: result?.errorCode ?? 'NotSent' };
    return { kind: 'accepted', transfer };
  }

  /** Polls `read` until `done` holds or `ms` pass (backoff 20 ms to 250 ms). */
  private async poll<T>(
    read: () => Promise<T>,
    done: (value: T) => boolean,
    ms: number,
  ): Promise<T | undefined> {
    const deadline = this.now().getTime() + ms;
    let delay = ACCOUNT_POLL_MS_MIN;
    while (this.now().getTime() < deadline) {
      await this.sleep(delay);
      const value = await read();
      if (done(value)) return value;
      delay = Math.min(ACCOUNT_POLL_MS_MAX, delay * 2);
    }
    return undefined;
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.deps.reader.getAccount(id);
  }

  getTransfer(id: string): Promise<Transfer | undefined> {
    return this.deps.reader.getTransfer(id);
  }

  listStatement(accountId: string, page: StatementPageRequest): Promise<StatementPage> {
    return this.deps.reader.listStatement(accountId, page);
  }

  /** One item's record; a store failure is that item's outcome, not the whole batch's. */
  private async record(
    recorder: TransferRecorder,
    request: TransferRequest,
    acceptedAt: string,
  ): Promise<SubmitOutcome> {
    const fingerprint = transferFingerprint(request);
    let result: Awaited<ReturnType<TransferRecorder['recordAccepted']>>;
    try {
      result = await recorder.recordAccepted(request, fingerprint, acceptedAt);
    } catch (error) {
      return { kind: 'unrecorded', id: request.id, errorCode: (error as Error).name || 'RecordFailed' };
    }
    if (result.created) return { kind: 'accepted', transfer: result.transfer };
    if (result.existing.fingerprint !== fingerprint) return { kind: 'conflict', existing: result.existing };
    return { kind: 'existing', transfer: result.existing };
  }

  private waitForAccount(reader: LedgerReader, id: string): Promise<Account | undefined> {
    return this.poll(
      () =>
        reader === this.deps.reader ? reader.getAccount(id) : reader.getAccount(id).catch(() => undefined),
      (a) => a !== undefined,
      this.accountOpenWaitMs,
    );
  }
}

function verdict(account: Account): UpdateAccountOutcome {
  const last = account.lastRequest;
  if (last?.outcome === 'refused') return { kind: 'refused', reason: last.reason ?? 'refused', account };
  return { kind: 'updated', account };
}

function compareAccount(
  account: Account,
  fingerprint: string,
  kind: 'created' | 'existing',
): OpenAccountOutcome {
  if (account.fingerprint !== fingerprint) return { kind: 'conflict', account };
  return { kind, account };
}

export { mapBounded } from './concurrency.js';
