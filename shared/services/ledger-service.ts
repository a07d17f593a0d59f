import { commandIdOf, decodeCommand, type LedgerCommand, touchesOf } from '../domain/commands.js';
import { TransientLedgerError } from '../domain/errors.js';
import { clearingAccountId } from '../domain/ledger.js';
import {
  type CommandOutcome,
  type LedgerState,
  type Plan,
  planBatch,
  writeSetSize,
} from '../domain/planner.js';
import type { DeadLetterSink, LedgerStateStore } from '../ports/ledger-store.js';

/** Where commands for other regions go (credit legs, credit results, forwarded commands). */
export interface CommandSender {
  send(
    commands: readonly LedgerCommand[],
  ): Promise<readonly { readonly ok: boolean; readonly errorCode?: string }[]>;
}

export interface LedgerServiceOptions {
  /** Sends emitted and forwarded commands to their home regions. Without it, a single region. */
  readonly sender?: CommandSender;
  /** Told about emitted commands that could not be sent (the reconciler sends them again). */
  readonly onSendFailed?: (command: LedgerCommand, errorCode: string) => void;
  /** True while this region is fenced (failed over): nothing is applied, the batch is retried. */
  readonly isFenced?: () => Promise<boolean>;
  /** More than one region: read the clearing accounts a cross-region step may write. Default true. */
  readonly multiRegion?: boolean;
}

/** Attempts to commit one chunk when a concurrent writer moved what it read. */
export const APPLY_ATTEMPTS_MAX = 8;
/** DynamoDB's limit of items in one transaction. */
export const CHUNK_WRITES_MAX = 100;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 400;

export interface StreamRecord {
  readonly id: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** What happened to one stream record. */
export type RecordOutcome = CommandOutcome | { readonly status: 'dead_lettered'; readonly reason: string };

export interface BatchResult {
  /** One per record; undefined for records not applied (from `failedFrom` on). */
  readonly outcomes: readonly (RecordOutcome | undefined)[];
  /** Index of the first record not applied (a transient failure); the stream redelivers from it. */
  readonly failedFrom: number | undefined;
}

/**
 * Applies a batch of stream records. Records are applied in stream order, in chunks: each chunk
 * is read once, planned as a whole (each command's outcome exactly as if alone, in order), and
 * written in one conditional transaction, so an account touched by many records of a chunk is
 * written once (hot-account coalescing). A lost race re-reads and re-plans the chunk (bounded).
 * Business rejections are outcomes; records that can never apply are dead-lettered and never
 * block the shard; only transient failures stop the batch, at the first record not applied.
 */
export class LedgerService {
  constructor(
    private readonly store: LedgerStateStore,
    private readonly deadLetters: DeadLetterSink,
    private readonly region: string,
    private readonly now: () => Date = () => new Date(),
    private readonly options: LedgerServiceOptions = {},
  ) {
    this.multiRegion = options.multiRegion ?? true;
  }

  private readonly multiRegion: boolean;

  async handleBatch(records: readonly StreamRecord[]): Promise<BatchResult> {
    const outcomes: (RecordOutcome | undefined)[] = records.map(() => undefined);
    // A fenced region writes nothing: its accounts belong to another region now (see the failover).
    if (records.length > 0 && (await this.options.isFenced?.()) === true) return { outcomes, failedFrom: 0 };
    const commands: { index: number; command: LedgerCommand }[] = [];
    for (const [index, record] of records.entries()) {
      const decoded = decodeCommand(record.data);
      if (decoded.ok) commands.push({ index, command: decoded.command });
      else outcomes[index] = await this.deadLetter('consumer-decode', record, decoded.reason);
    }
    for (const chunk of chunksOf(commands, { multiRegion: this.multiRegion })) {
      try {
        const results = await this.applyChunk(chunk.map((c) => c.command));
        for (const [i, { index, command }] of chunk.entries()) {
          const outcome = results[i];
          const record = records[index];
          if (outcome?.status === 'unappliable' && record !== undefined) {
            outcomes[index] = await this.deadLetter(
              'consumer-unappliable',
              record,
              `${commandIdOf(command)}: ${outcome.reason}`,
            );
          } else {
            outcomes[index] = outcome;
          }
        }
      } catch (error) {
        // The store reports every retryable failure as TransientLedgerError; anything else is a bug.
        if (!(error instanceof TransientLedgerError)) throw error;
        const failedFrom = chunk[0]?.index ?? 0;
        for (let i = failedFrom; i < outcomes.length; i++) outcomes[i] = undefined;
        return { outcomes, failedFrom };
      }
    }
    return { outcomes, failedFrom: undefined };
  }

  /** Read, plan, commit; on a conflict read again (bounded, jittered backoff). Then send what the plan sends. */
  private async applyChunk(commands: readonly LedgerCommand[]): Promise<readonly CommandOutcome[]> {
    for (let attempt = 0; attempt < APPLY_ATTEMPTS_MAX; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
      const state = await this.read(commands);
      const plan = planBatch(commands, state, { region: this.region, now: this.now().toISOString() });
      if (writeSetSize(plan.writes) > CHUNK_WRITES_MAX)
        throw new Error(`chunk of ${commands.length} commands plans too many writes`);
      if ((await this.store.commit(plan.writes)) === 'committed') {
        await this.sendOn(plan);
        return plan.outcomes;
      }
    }
    throw new TransientLedgerError(`gave up after ${APPLY_ATTEMPTS_MAX} attempts (contention or throttling)`);
  }

  /**
   * Forwards must reach their region before the records are acknowledged (else the command would
   * be lost): a failure fails the chunk, which is redelivered (what was committed is then a
   * duplicate). Emits follow a commit that already happened: a failure is reported, and the
   * reconciler sends a late credit leg again (the receiving side is idempotent).
   */
  private async sendOn(plan: Plan): Promise<void> {
    const sender = this.options.sender;
    if (plan.forwards.length > 0) {
      if (sender === undefined) throw new Error('a command must be forwarded but no sender is configured');
      const results = await sender.send(plan.forwards);
      const failed = results.find((r) => !r.ok);
      if (failed !== undefined)
        throw new TransientLedgerError(`forward failed: ${failed.errorCode ?? 'unknown'}`);
    }
    if (plan.emits.length > 0 && sender !== undefined) {
      let results: readonly { readonly ok: boolean; readonly errorCode?: string }[];
      try {
        results = await sender.send(plan.emits);
      } catch (error) {
        results = plan.emits.map(() => ({ ok: false, errorCode: (error as Error).name }));
      }
      results.forEach((r, i) => {
        const command = plan.emits[i];
        if (!r.ok && command !== undefined) this.options.onSendFailed?.(command, r.errorCode ?? 'unknown');
      });
    }
  }

  /**
   * Everything the commands touch, plus the accounts of the transfers they act on and, with more
   * than one region, the clearing accounts a cross-region step may use.
   */
  private async read(commands: readonly LedgerCommand[]): Promise<LedgerState> {
    const accounts = new Set<string>();
    const transfers = new Set<string>();
    const legs = new Set<string>();
    for (const c of commands) {
      const t = touchesOf(c);
      for (const a of t.accounts) accounts.add(a);
      for (const id of t.transfers) transfers.add(id);
      for (const id of t.legs ?? []) legs.add(id);
      // With one region no step crosses regions: its clearing accounts are never written.
      if (!this.multiRegion) continue;
      if (c.type === 'transfer')
        accounts.add(clearingAccountId(this.region, c.transfer.currency, c.transfer.debitAccountId));
      if (c.type === 'credit_leg')
        accounts.add(clearingAccountId(this.region, c.currency, c.creditAccountId));
    }
    const first = await this.store.readState({ accounts, transfers, legs });
    const missing = [...first.transfers.values()]
      .flatMap((t) => [
        t.debitAccountId,
        t.creditAccountId,
        ...(this.multiRegion ? [clearingAccountId(this.region, t.currency, t.debitAccountId)] : []),
        ...(t.clearingAccountId === undefined ? [] : [t.clearingAccountId]),
      ])
      .filter((id) => !accounts.has(id));
    if (missing.length === 0) return first;
    const more = await this.store.readState({ accounts: missing, transfers: [] });
    return {
      accounts: new Map([...first.accounts, ...more.accounts]),
      transfers: first.transfers,
      ...(first.legs === undefined ? {} : { legs: first.legs }),
    };
  }

  private async deadLetter(source: string, record: StreamRecord, reason: string): Promise<RecordOutcome> {
    await this.deadLetters.put({
      source,
      reason,
      recordId: record.id,
      partitionKey: record.partitionKey,
      data: Buffer.from(record.data).toString('base64'),
    });
    return { status: 'dead_lettered', reason };
  }
}

/**
 * Cuts commands, in order, into chunks whose writes fit one transaction: every distinct transfer
 * is one write, every distinct account up to two (the account and its journal page).
 */
export function chunksOf<T extends { command: LedgerCommand }>(
  commands: readonly T[],
  options: { readonly multiRegion?: boolean } = {},
): T[][] {
  const clearing = options.multiRegion ?? true;
  const chunks: T[][] = [];
  let current: T[] = [];
  let accounts = new Set<string>();
  let transfers = new Set<string>();
  for (const item of commands) {
    const t = touchesOf(item.command);
    // A capture also writes the hold's credit account, which only the transfer record names.
    if (item.command.type === 'capture') t.accounts.push(`credit-of:${item.command.transferId}`);
    // A cross-region step writes a clearing account (one per currency and stripe); a credit leg its leg item.
    const c = item.command;
    if (clearing) {
      if (c.type === 'transfer')
        t.accounts.push(clearingAccountId('*', c.transfer.currency, c.transfer.debitAccountId));
      else if (c.type === 'credit_leg')
        t.accounts.push(clearingAccountId('*', c.currency, c.creditAccountId));
      else if (c.type !== 'open_account' && c.type !== 'update_account')
        t.accounts.push(`clearing-of:${commandIdOf(c)}`);
    }
    for (const leg of t.legs ?? []) t.transfers.push(`leg:${leg}`);
    const nextAccounts = new Set([...accounts, ...t.accounts]);
    const nextTransfers = new Set([...transfers, ...t.transfers]);
    const size = nextTransfers.size + 2 * nextAccounts.size;
    if (current.length > 0 && size > CHUNK_WRITES_MAX) {
      chunks.push(current);
      current = [];
      accounts = new Set(t.accounts);
      transfers = new Set(t.transfers);
    } else {
      accounts = nextAccounts;
      transfers = nextTransfers;
    }
    current.push(item);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
